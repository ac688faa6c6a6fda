package test

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// The README's first command: gopbx with no -C starts on the embedded demo,
// listens on UDP and TCP port 5060, TLS 5061 and WebSocket 8088 on all
// addresses (and says so), prints the demo users
// with their passwords, and a softphone using them registers.
//
// It binds 0.0.0.0:5060, so it runs in its own network namespace where no
// other test's 127.0.x.y:5060 socket is in the way.
func TestDemoStartsAndPhonesRegister(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "baresip")
	ns := harness.NewNetns(t, "demo")
	pbx := harness.StartPBXInNetns(t, ns, harness.PBXOptions{IP: "127.0.0.1", Args: []string{"-v"}})

	var pw map[string]string
	deadline := time.Now().Add(5 * time.Second)
	for len(pw) < 4 && time.Now().Before(deadline) {
		pw = demoPasswords(pbx.Log())
		time.Sleep(50 * time.Millisecond)
	}
	if len(pw) != 4 {
		t.Fatalf("demo users 1000-1003 with passwords not printed at start:\n%s", pbx.Log())
	}
	for _, want := range []string{"proto=udp addr=0.0.0.0:5060", "proto=tcp addr=0.0.0.0:5060",
		"proto=tls addr=0.0.0.0:5061", "proto=ws addr=0.0.0.0:8088", "5061 (TLS", "ws://ADDRESS:8088/ws"} {
		if !strings.Contains(pbx.Log(), want) {
			t.Fatalf("demo does not listen on %s:\n%s", want, pbx.Log())
		}
	}

	udp := harness.StartBaresipInNetns(t, ns, harness.BaresipOptions{Name: "demo-udp", IP: "127.0.0.2", SIPPort: 5070,
		User: "1000", Password: pw["1000"], Domain: "127.0.0.1:5060", Transport: "udp", Record: true, ToneHz: 1000})
	tcp := harness.StartBaresipInNetns(t, ns, harness.BaresipOptions{Name: "demo-tcp", IP: "127.0.0.3", SIPPort: 5070,
		User: "1003", Password: pw["1003"], Domain: "127.0.0.1:5060", Transport: "tcp"})
	for _, ua := range []*harness.Baresip{udp, tcp} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	out := contacts(t, pbx)
	if !hasContact(out, "1000", "", udp.Addr()) || !hasContact(out, "1003", "", tcp.Addr()) {
		t.Fatalf("demo phones not in pjsip show contacts:\n%s", out)
	}
	// The demo dialplan connects demo phones: 1000 calls 1003 (over TCP).
	if err := udp.Dial("sip:1003@127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{udp, tcp} {
		if _, err := ua.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("demo call 1000 -> 1003: %v", err)
		}
	}
	pbx.WaitConsole(t, "core show calls", 5*time.Second, func(out string) bool { return strings.Contains(out, "1 active call") })
	if err := udp.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{udp, tcp} {
		if _, err := ua.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatalf("demo call hang-up: %v", err)
		}
	}

	// The demo's echo test (600) plays its prompt, then returns the
	// caller's 1000 Hz tone.
	if err := udp.Dial("sip:600@127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	if _, err := udp.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("demo echo test 600: %v", err)
	}
	prompt := harness.MeasureAudio(t, filepath.Join(harness.ModuleRoot(t), "sounds/en/demo-echotest.wav"), 0).Length
	time.Sleep(time.Duration((prompt + 3) * float64(time.Second))) // the prompt, then 3 s of echo
	udp.Hangup()
	if _, err := udp.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	dumps, _ := filepath.Glob(filepath.Join(udp.RecordDir(), "*-dec.wav"))
	if len(dumps) == 0 {
		t.Fatal("no audio received in the demo calls")
	}
	sort.Strings(dumps)
	echo := dumps[len(dumps)-1]
	st := harness.MeasureAudio(t, echo, time.Duration((prompt+0.8)*float64(time.Second)))
	t.Logf("echo test tail: %.2f s, %.1f dBFS, %.0f Hz", st.Length, st.RMSdB, st.FreqHz)
	if st.RMSdB < -30 || st.FreqHz < 950 || st.FreqHz > 1050 {
		t.Errorf("the demo echo test did not return the caller's 1000 Hz tone: %.0f Hz at %.1f dBFS", st.FreqHz, st.RMSdB)
	}

	// A wrong password does not register.
	bad := harness.StartBaresipInNetns(t, ns, harness.BaresipOptions{Name: "demo-bad", IP: "127.0.0.4", SIPPort: 5070,
		User: "1001", Password: "not-" + pw["1001"], Domain: "127.0.0.1:5060", Transport: "udp"})
	if err := bad.WaitRegistered(3 * time.Second); err == nil {
		t.Fatal("a wrong demo password registered")
	}
}

var demoUserLine = regexp.MustCompile(`(?m)^\s+(100[0-3])\s+(\S{12})\s+\d{4}\s*$`)

// demoPasswords reads the user table gopbx prints at start.
func demoPasswords(log string) map[string]string {
	pw := map[string]string{}
	for _, m := range demoUserLine.FindAllStringSubmatch(log, -1) {
		pw[m[1]] = m[2]
	}
	return pw
}
