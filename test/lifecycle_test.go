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

// TestShutdownWithUnackedCall: a caller gets 200 OK and never ACKs it;
// SIGTERM still stops gopbx promptly (sipgo retransmits the 200 without a
// deadline, which used to hold the call and the shutdown for 5 s).
func TestShutdownWithUnackedCall(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	n := newMediaNet(162)
	conf := strings.Replace(mediaConf(n.pbx, "ulaw", "ulaw"), "password=alice-pw", "password="+callAlicePassword, 1)
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: harness.IP(t, n.pbx), Files: map[string]string{
		"pjsip.conf": conf, "extensions.conf": mediaDialplan, // 602 answers and waits for digits
	}})
	done := make(chan harness.SIPpResult, 1)
	go func() { done <- placeCall(t, pbx, harness.IP(t, n.alice), "uac_call_noack", "602", "-d", "8000") }()
	pbx.WaitConsole(t, "core show channels count", 10*time.Second, func(out string) bool {
		return strings.Contains(out, "1 active channel")
	})
	time.Sleep(500 * time.Millisecond) // the 200 is out, its ACK never comes
	start := time.Now()
	pbx.Stop(t)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gopbx took %v to stop with an unacknowledged call, want under 3 s", d.Round(10*time.Millisecond))
	}
	<-done
}
