package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where a missing
// peer is an error, not a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireTool returns the path of the executable name. When it is not
// installed the test is skipped, or fails under CI.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := lookTool(name)
	if err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("harness: %s is not installed and CI=true; run scripts/install-test-deps.sh", name)
	}
	t.Skipf("harness: %s is not installed (run scripts/install-test-deps.sh as root); skipping", name)
	return ""
}

// lookTool finds name on PATH or in the sbin directories a non-root PATH
// may lack.
func lookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		c := filepath.Join(dir, name)
		if fi, e := os.Stat(c); e == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", err
}
