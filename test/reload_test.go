package test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// A reload with a broken file keeps the running configuration and says
// where the fault is; a good reload (console or SIGHUP) takes effect.
func TestReloadKeepsConfigOnError(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.61.1")
	local := harness.IP(t, "127.0.61.2")

	// Break pjsip.conf: a section without type= is fatal in res_pjsip.
	good := pjsipConf("127.0.61.1")
	pbx.WriteConfig(t, "pjsip.conf", good+"\n[9000]\ncontext=default\n")
	out, err := pbx.ConsoleErr("core reload")
	if err == nil {
		t.Fatalf("core reload of a broken file succeeded:\n%s", out)
	}
	if !strings.Contains(out, "pjsip.conf:") || !strings.Contains(out, "running configuration is kept") {
		t.Fatalf("reload error does not name file:line and keep the config: %v\n%s", err, out)
	}
	// The old configuration still serves: 1000 registers.
	sipp(t, pbx, "register_auth", "u1", local, 0, users("1000"))

	// Fix it and add a user: the console reload takes it.
	withNew := good + "\n[3000]\ntype=endpoint\ncontext=default\nauth=3000\naors=3000\n[3000]\ntype=auth\nauth_type=userpass\nusername=3000\npassword=pw-3000\n[3000]\ntype=aor\nmax_contacts=1\n"
	pbx.WriteConfig(t, "pjsip.conf", withNew)
	if out := pbx.Console(t, "core reload"); !strings.Contains(out, "reloaded") {
		t.Fatalf("core reload: %q", out)
	}
	sipp(t, pbx, "register_auth", "u1", local, 0, "SEQUENTIAL\n3000;pw-3000\n")

	// SIGHUP reloads too: remove 3000 again and it can no longer register.
	pbx.WriteConfig(t, "pjsip.conf", good)
	if err := pbx.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	pbx.WaitConsole(t, "pjsip show endpoints", 5*time.Second, func(out string) bool {
		return !strings.Contains(out, "Endpoint:  3000")
	})
	harness.RunSIPp(t, harness.SIPpOptions{Scenario: "register_wrong_password", Remote: pbx.Addr(), LocalIP: local,
		Transport: "u1", Users: "SEQUENTIAL\n3000;pw-3000\n", Service: "1001", Timeout: 10 * time.Second})
	if harness.RunSIPp(t, harness.SIPpOptions{Scenario: "register_auth", Remote: pbx.Addr(), LocalIP: local,
		Transport: "u1", Users: "SEQUENTIAL\n3000;pw-3000\n", Service: "1001", Timeout: 10 * time.Second}).OK() {
		t.Fatal("3000 still registers after it was removed and gopbx got SIGHUP")
	}
}

// Start-up with a broken file fails and names file:line.
func TestStartupConfigError(t *testing.T) {
	t.Parallel()
	bin := harness.Binary(t)
	dir := t.TempDir()
	writeFile(t, dir+"/pjsip.conf", "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.62.1:5060\n\n[broken\n")
	out, err := runCmd(t, 10*time.Second, bin, "-C", dir, "-data", t.TempDir())
	if err == nil {
		t.Fatalf("gopbx started on a broken config:\n%s", out)
	}
	if !strings.Contains(out, "pjsip.conf:6") {
		t.Fatalf("start-up error does not cite pjsip.conf:6:\n%s", out)
	}
}
