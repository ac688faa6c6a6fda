package test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// startSecured starts gopbx with the usual pjsip.conf and a gopbx.conf
// holding the [security] section given.
func startSecured(t *testing.T, ip, security string) *harness.PBX {
	t.Helper()
	harness.RequireTool(t, "sipp")
	return harness.StartPBX(t, harness.PBXOptions{
		IP: harness.IP(t, ip),
		Files: map[string]string{
			"pjsip.conf": pjsipConf(ip),
			"gopbx.conf": "[security]\n" + security,
		},
	})
}

// registers runs register_auth for 1000 from local and reports whether it
// got its 200 (a banned source gets no answer at all).
func registers(t *testing.T, pbx *harness.PBX, local string) bool {
	t.Helper()
	return harness.RunSIPp(t, harness.SIPpOptions{Scenario: "register_auth", Remote: pbx.Addr(), LocalIP: local,
		Transport: "u1", Users: users("1000"), Service: "1001", Timeout: 4 * time.Second}).OK()
}

// Three wrong passwords within ban_window ban the source for ban_time: a
// correct REGISTER from it then goes unanswered while another address
// registers the same user; `sip show bans` lists it and `sip unban` lifts it.
func TestSecurityBanAfterFailures(t *testing.T) {
	t.Parallel()
	pbx := startSecured(t, "127.0.111.1", "ban_after_failures=3\nban_window=30\nban_time=20\n")
	bad := harness.IP(t, "127.0.111.2")
	good := harness.IP(t, "127.0.111.3")

	for range 3 {
		sipp(t, pbx, "register_wrong_password", "u1", bad, 0, "SEQUENTIAL\n1000;not-"+passwords["1000"]+"\n")
	}
	if registers(t, pbx, bad) {
		t.Fatal("a banned source registered")
	}
	if !registers(t, pbx, good) {
		t.Fatal("another source could not register while 127.0.111.2 is banned")
	}
	out := pbx.Console(t, "sip show bans")
	if !strings.Contains(out, "127.0.111.2") || strings.Contains(out, "127.0.111.3") {
		t.Fatalf("sip show bans:\n%s", out)
	}
	if out := pbx.Console(t, "security show bans"); !strings.Contains(out, "127.0.111.2") {
		t.Fatalf("security show bans:\n%s", out)
	}
	// The default overload limits, and no overload on an idle server.
	if out := pbx.Console(t, "security show overload"); !strings.Contains(out, "overload_delay:") || !strings.Contains(out, "50ms") ||
		!strings.Contains(out, "overload_wait:") || !strings.Contains(out, "1s") || !strings.Contains(out, "read loop (503):  0") {
		t.Fatalf("security show overload:\n%s", out)
	}
	if log := pbx.Log(); !strings.Contains(log, "security: source banned") || !strings.Contains(log, "security: authentication failed") {
		t.Fatalf("no security events in the log:\n%s", log)
	}
	if out := pbx.Console(t, "sip unban 127.0.111.2"); !strings.Contains(out, "unbanned") {
		t.Fatalf("sip unban: %s", out)
	}
	if !registers(t, pbx, bad) {
		t.Fatal("127.0.111.2 still cannot register after sip unban")
	}
	if out := pbx.Console(t, "sip show bans"); strings.Contains(out, "127.0.111.2") {
		t.Fatalf("unbanned source still listed:\n%s", out)
	}
}

// rawUDP sends requests from local and collects what comes back.
type rawUDP struct {
	conn *net.UDPConn
	to   *net.UDPAddr
}

func dialRaw(t *testing.T, local, remote string) *rawUDP {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp4", remote)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawUDP{conn: c, to: to}
}

func (u *rawUDP) send(t *testing.T, method, callID, ua string) {
	t.Helper()
	la := u.conn.LocalAddr().String()
	msg := fmt.Sprintf("%[1]s sip:1001@%[2]s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %[3]s;branch=z9hG4bK-%[4]s;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:9999@%[3]s>;tag=%[4]s\r\nTo: <sip:1001@%[2]s>\r\n"+
		"Call-ID: %[4]s\r\nCSeq: 1 %[1]s\r\nContact: <sip:9999@%[3]s>\r\nUser-Agent: %[5]s\r\nContent-Length: 0\r\n\r\n",
		method, u.to.String(), la, callID, ua)
	if _, err := u.conn.WriteToUDP([]byte(msg), u.to); err != nil {
		t.Fatal(err)
	}
}

// responses reads for d and returns the first status line and headers of
// each response by Call-ID.
func (u *rawUDP) responses(d time.Duration) map[string]string {
	got := make(map[string]string)
	buf := make([]byte, 65535)
	u.conn.SetReadDeadline(time.Now().Add(d))
	for {
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return got
		}
		msg := string(buf[:n])
		status, _, _ := strings.Cut(msg, "\r\n")
		if strings.Contains(status, " 100 ") {
			continue
		}
		for _, line := range strings.Split(msg, "\r\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(name, "Call-ID") || name == "i") {
				if _, seen := got[strings.TrimSpace(v)]; !seen {
					got[strings.TrimSpace(v)] = msg
				}
			}
		}
	}
}

// 100 INVITEs at once from one source with invite_rate=5: all but about
// the burst get a 503 with Retry-After, and gopbx still answers OPTIONS
// from another address.
func TestSecurityInviteFlood(t *testing.T) {
	t.Parallel()
	pbx := startSecured(t, "127.0.112.1", "invite_rate=5\n")
	u := dialRaw(t, harness.IP(t, "127.0.112.2"), pbx.Addr())
	for i := range 100 {
		u.send(t, "INVITE", fmt.Sprintf("flood-%d", i), "gopbx-test")
	}
	got := u.responses(3 * time.Second)
	n503, other := 0, 0
	for id, msg := range got {
		switch {
		case strings.HasPrefix(msg, "SIP/2.0 503 "):
			n503++
			if !strings.Contains(msg, "\r\nRetry-After: ") {
				t.Fatalf("503 for %s without Retry-After:\n%s", id, msg)
			}
		default:
			other++
		}
	}
	t.Logf("100 INVITEs: %d answered 503, %d otherwise (challenge), %d unanswered", n503, other, 100-len(got))
	if n503 < 90 || n503 > 95 {
		t.Fatalf("%d INVITEs got 503, want 95 (100 less the burst of 5), at least 90", n503)
	}
	if other < 5 {
		t.Fatalf("only %d INVITEs within the rate were served", other)
	}
	sipp(t, pbx, "options", "u1", harness.IP(t, "127.0.112.3"), 0, "")
	if log := pbx.Log(); strings.Count(log, "security: invite rate exceeded") != 1 {
		t.Fatalf("rate-limit events not logged exactly once:\n%s", log)
	}
}

// A scanner's User-Agent is dropped without an answer; the same request
// from a phone is answered.
func TestSecurityScannerDropped(t *testing.T) {
	t.Parallel()
	pbx := startSecured(t, "127.0.113.1", "")
	u := dialRaw(t, harness.IP(t, "127.0.113.2"), pbx.Addr())
	u.send(t, "OPTIONS", "scan-1", "friendly-scanner")
	u.send(t, "INVITE", "scan-2", "sipvicious")
	u.send(t, "OPTIONS", "phone-1", "Zoiper rv2.10")
	got := u.responses(2 * time.Second)
	if _, ok := got["scan-1"]; ok {
		t.Fatalf("scanner OPTIONS answered:\n%s", got["scan-1"])
	}
	if _, ok := got["scan-2"]; ok {
		t.Fatalf("scanner INVITE answered:\n%s", got["scan-2"])
	}
	if !strings.HasPrefix(got["phone-1"], "SIP/2.0 200 ") {
		t.Fatalf("phone OPTIONS not answered 200: %q", got["phone-1"])
	}
	if !strings.Contains(pbx.Log(), "security: scanner dropped") {
		t.Fatal("scanner not logged")
	}
}
