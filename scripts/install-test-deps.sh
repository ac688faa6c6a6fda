#!/usr/bin/env bash
# Installs the real peers the integration tests drive (SIPp, baresip, sox,
# espeak-ng, Kamailio, iproute2, iptables) from Debian's archive, Kamailio's
# db_sqlite module (kamailio-sqlite-modules: make bench's kamailio-db), and
# the C libraries the codec tests compare against or build with (spandsp for
# the G.722 cross-check, libopus + pkg-config for the opus build tag).
# Idempotent: does nothing when every tool is already on PATH.
# Not root: prints what is missing and exits 0, so `make test` still runs the
# unit tests; the integration tests then skip (or fail when CI=true).
set -euo pipefail

# tool:package pairs. ip and iptables live in /usr/sbin, which a non-root
# PATH may lack, so look there too.
tools=(
	sipp:sip-tester
	baresip:baresip
	sox:sox
	espeak-ng:espeak-ng
	kamailio:kamailio
	ip:iproute2
	iptables:iptables
)

have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing_tools=()
missing_pkgs=()
for pair in "${tools[@]}"; do
	tool=${pair%%:*}
	pkg=${pair#*:}
	if ! have "$tool"; then
		missing_tools+=("$tool")
		missing_pkgs+=("$pkg")
	fi
done

# Library and module packages, checked with dpkg.
for pkg in libspandsp-dev libopus-dev pkg-config kamailio-sqlite-modules; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing_tools+=("$pkg")
		missing_pkgs+=("$pkg")
	fi
done

if [ ${#missing_tools[@]} -eq 0 ]; then
	exit 0
fi

if [ "${EUID:-$(id -u)}" -ne 0 ]; then
	echo "install-test-deps: missing tools: ${missing_tools[*]}" >&2
	echo "install-test-deps: as root run: apt-get install -y ${missing_pkgs[*]}" >&2
	exit 0
fi

echo "install-test-deps: installing ${missing_pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q sip-tester baresip sox espeak-ng kamailio kamailio-sqlite-modules iproute2 iptables libspandsp-dev libopus-dev pkg-config gcc

still=()
for tool in "${missing_tools[@]}"; do
	case "$tool" in
	lib*-dev | pkg-config | kamailio-sqlite-modules) dpkg-query -W -f='${Status}' "$tool" 2>/dev/null | grep -q "install ok installed" || still+=("$tool") ;;
	*) have "$tool" || still+=("$tool") ;;
	esac
done
if [ ${#still[@]} -ne 0 ]; then
	echo "install-test-deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
