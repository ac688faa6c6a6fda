package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/test/harness"
)

// call-limit (sip.conf): a peer with call-limit=1 takes one call; a second
// Dial while it is busy gets DIALSTATUS BUSY and the caller 486.
func TestCallLimit(t *testing.T) {
	t.Parallel()
	n := newCallNet(80)
	pjsip := callsPJSIPConf(n)
	sipconf := fmt.Sprintf(`[general]
bindaddr=127.0.81.1
bindport=5060

[limited]
type=peer
host=%s
port=5060
insecure=port,invite
call-limit=1
context=calls
`, n.bob)
	ext := callsExtensions + "exten => 300,1,Dial(SIP/limited,10)\n same => n,Hangup()\n"
	harness.RequireTool(t, "sipp")
	harness.IP(t, "127.0.81.1")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: harness.IP(t, n.pbx), Files: map[string]string{
		"pjsip.conf": pjsip, "sip.conf": sipconf, "extensions.conf": ext,
	}})
	harness.IP(t, n.bob)
	uas := startCallee(t, n.bob, "uas_answer", "-d", "3000")

	alice := harness.IP(t, n.alice)
	first := harness.StartSIPp(t, callOptions(pbx, alice, "uac_call", "300", callAlicePassword, "-d", "3000"))
	pbx.WaitConsole(t, "core show channels", 5*time.Second, func(out string) bool {
		return strings.Contains(out, "SIP/limited-")
	})
	second := harness.RunSIPp(t, callOptions(pbx, harness.IP(t, n.busybob), "uac_expect_486", "300", callAlicePassword))
	requireSIPpOK(t, "second call while the peer is at its call-limit (486)", second)
	requireSIPpOK(t, "first call", first.Wait())
	requireSIPpOK(t, "callee", uas.Wait())
	waitCallsGone(t, pbx)

	// The refused call dialled no channel, so with cdr.conf's default
	// unanswered=no it leaves no record, as in Asterisk.
	waitCDR(t, pbx, 5*time.Second, "ANSWERED record of the first call", func(r cdrRecord) bool {
		return r.Dst == "300" && r.Disposition == "ANSWERED"
	})
}

// asterisk.conf [options] maxcalls: past it new calls get 503 with
// Retry-After while the established one goes on.
func TestMaxCalls(t *testing.T) {
	t.Parallel()
	n := newCallNet(82)
	harness.RequireTool(t, "sipp")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: harness.IP(t, n.pbx), Files: map[string]string{
		"pjsip.conf": callsPJSIPConf(n), "extensions.conf": callsExtensions,
		"asterisk.conf": "[options]\nmaxcalls = 1\n",
	}})
	harness.IP(t, n.bob)
	uas := startCallee(t, n.bob, "uas_answer", "-d", "3000")
	first := harness.StartSIPp(t, callOptions(pbx, harness.IP(t, n.alice), "uac_call", "100", callAlicePassword, "-d", "3000"))
	pbx.WaitConsole(t, "core show calls", 5*time.Second, func(out string) bool { return strings.Contains(out, "1 active call") })

	// A raw INVITE: maxcalls answers before authentication.
	c := siptest.DialUDP(t, harness.IP(t, n.busybob)+":0", pbx.Addr())
	res := c.Exchange(fmt.Sprintf("INVITE sip:100@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK%[2]s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:alice@%[1]s>;tag=mc\r\nTo: <sip:100@%[1]s>\r\nCall-ID: mc-%[2]s\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{local}>\r\nContent-Length: 0\r\n\r\n",
		pbx.Addr(), siptest.Unique()))
	if siptest.Status(res) != "SIP/2.0 503 Service Unavailable" || siptest.Header(res, "Retry-After") == "" {
		t.Fatalf("INVITE past maxcalls: want 503 with Retry-After, got:\n%s", res)
	}
	requireSIPpOK(t, "established call", first.Wait())
	requireSIPpOK(t, "callee", uas.Wait())
}
