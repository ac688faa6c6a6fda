package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Env is set in the environment of a helper process RunInLoopbackNS
// starts: the helper test runs its body only when it is there.
const Env = "GOPBX_NETNS_HELPER"

// InHelper reports whether this process is a helper RunInLoopbackNS
// started.
func InHelper() bool { return os.Getenv(Env) != "" }

// RunInLoopbackNS makes a namespace (named after tag and the process)
// whose lo is up with addrs (each "addr/prefix", added without duplicate
// address detection), runs this test binary's helper test in it with
// CI=true (so nothing in it skips) and fails t unless the helper passed.
// Without root or iproute2 it skips t, or fails it under CI.
func RunInLoopbackNS(t *testing.T, tag, helper string, addrs ...string) {
	t.Helper()
	if InHelper() {
		t.Skip("in a helper process")
	}
	ns := fmt.Sprintf("gopbx%d-%s", os.Getpid(), tag)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespaces unavailable under CI: ip netns add %s: %v: %s", ns, err, out)
		}
		t.Skipf("needs root and iproute2: ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	cmds := [][]string{{"-n", ns, "link", "set", "lo", "up"}}
	for _, a := range addrs {
		cmds = append(cmds, []string{"-n", ns, "addr", "add", a, "dev", "lo", "nodad"})
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^"+helper+"$", "-test.count=1", "-test.v", "-test.timeout=30s")
	cmd.Env = append(os.Environ(), Env+"=1", "CI=true")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+helper) {
		t.Fatalf("%s in namespace %s: %v\n%s", helper, ns, err, out)
	}
}
