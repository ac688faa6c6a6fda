package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
