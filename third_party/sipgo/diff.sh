#!/bin/sh
# Prints gopbx's patches to sipgo as one unified diff against the release
# this copy is based on (github.com/emiago/sipgo v1.7.3, fetched into the
# module cache if missing), for review and for sending upstream: each hunk
# belongs to a patch listed in PATCHES.md and marked "gopbx patch" in the
# code. Only the library's non-test sources are compared; gopbx's own
# files (PATCHES.md, this script, the gopbx_*_test.go files) and the
# test helpers this copy leaves out (siptest) are not compared.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=v1.7.3
dir=$(cd "$here" && go mod download -json "github.com/emiago/sipgo@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
	echo "diff.sh: sipgo $version not found in the module cache" >&2
	exit 1
fi
cd "$here/.."
# diff exits 1 when the trees differ: that is the expected outcome here.
diff -ruN \
	-x '*_test.go' -x 'PATCHES.md' -x 'diff.sh' -x '.*' -x 'example' -x 'fakes' -x 'icons' \
	-x 'testdata' -x 'siptest' -x 'Dockerfile' -x 'SECURITY.md' -x 'Makefile' -x '*.png' -x '*.svg' \
	"$dir" sipgo | sed "s|$dir|a|; s|^\(+++ \)sipgo|\1b|; s|^\(diff .*\) sipgo|\1 b|" || [ $? -eq 1 ]
