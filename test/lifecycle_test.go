package test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// The process contract: ready log line, console, SIGHUP reload keeps
// serving, SIGTERM exits cleanly within 5 s.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ip := harness.IP(t, "127.0.51.1")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: map[string]string{"pjsip.conf": pjsipConf(ip)}})
	local := harness.IP(t, "127.0.51.2")
	if !strings.Contains(pbx.Log(), `msg="gopbx ready"`) {
		t.Errorf("no ready line in the log:\n%s", pbx.Log())
	}
	if out := pbx.Console(t, "core show version"); !strings.Contains(out, "gopbx") {
		t.Errorf("core show version: %q", out)
	}
	if out, err := pbx.ConsoleErr("no such command here"); err == nil {
		t.Errorf("an unknown console command succeeded: %q", out)
	}
	if err := pbx.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := harness.WaitSIP("udp", local, pbx.Addr(), 5*time.Second); err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	if !pbx.Running() {
		t.Fatal("gopbx exited on SIGHUP")
	}
	pbx.Stop(t) // fails on a slow or non-zero exit
	if err := harness.WaitSIP("udp", local, pbx.Addr(), 500*time.Millisecond); err == nil {
		t.Fatal("still answering OPTIONS after SIGTERM")
	}
}
