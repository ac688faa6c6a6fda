package test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Calls through gopbx as a B2BUA: a SIPp UAC (the authenticated caller
// "alice") dials an extension of extensions.conf, whose Dial() calls SIPp
// UASes reached through AORs with static contacts. Each test owns a block
// 127.0.N.0/24 (N = 70..79): gopbx on .1, the caller on .2, the callees
// bob .3, busybob .4, slowbob .5 and byebob .6, each SIPp UAS on port 5060.

const (
	callAliceUser     = "alice"
	callAlicePassword = "alice-secret"
)

// callNet is one test's addresses.
type callNet struct{ pbx, alice, bob, busybob, slowbob, byebob string }

func newCallNet(block int) callNet {
	ip := func(host int) string { return fmt.Sprintf("127.0.%d.%d", block, host) }
	return callNet{pbx: ip(1), alice: ip(2), bob: ip(3), busybob: ip(4), slowbob: ip(5), byebob: ip(6)}
}

// callsPJSIPConf: alice authenticates (digest) in context calls; each
// callee is an endpoint whose AOR has a static contact at its SIPp UAS.
func callsPJSIPConf(n callNet) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `[global]
type=global
user_agent=gopbx-test

[transport-udp]
type=transport
protocol=udp
bind=%s:5060

[alice]
type=endpoint
context=calls
disallow=all
allow=ulaw
auth=alice
aors=alice
[alice]
type=auth
auth_type=userpass
username=%s
password=%s
[alice]
type=aor
max_contacts=1
`, n.pbx, callAliceUser, callAlicePassword)
	for _, c := range []struct{ name, ip string }{{"bob", n.bob}, {"busybob", n.busybob}, {"slowbob", n.slowbob}, {"byebob", n.byebob}} {
		fmt.Fprintf(&sb, `
[%[1]s]
type=endpoint
context=calls
disallow=all
allow=ulaw
aors=%[1]s
[%[1]s]
type=aor
contact=sip:%[1]s@%[2]s:5060
`, c.name, c.ip)
	}
	return sb.String()
}

// callsExtensions is the dialplan of the SIPp call tests.
const callsExtensions = `[calls]
exten => 100,1,Dial(PJSIP/bob,10)
 same => n,Hangup()
exten => 101,1,Dial(PJSIP/busybob,10)
 same => n,Hangup()
; no answer within 2 s: DIALSTATUS=NOANSWER, the caller gets 480
exten => 102,1,Dial(PJSIP/slowbob,2)
 same => n,Hangup()
; parallel: slowbob rings, bob answers, slowbob is cancelled
exten => 103,1,Dial(PJSIP/slowbob&PJSIP/bob,10)
 same => n,Hangup()
; the callee hangs up first
exten => 110,1,Dial(PJSIP/byebob,10)
 same => n,Hangup()
; rings long enough for the caller to cancel
exten => 120,1,Dial(PJSIP/slowbob,30)
 same => n,Hangup()
exten => 486,1,Hangup(17)
exten => 403,1,Hangup(21)
`

// startCallsPBX claims the gopbx address of n and starts gopbx on the
// call test config.
func startCallsPBX(t *testing.T, n callNet) *harness.PBX {
	t.Helper()
	harness.RequireTool(t, "sipp")
	return harness.StartPBX(t, harness.PBXOptions{
		IP: harness.IP(t, n.pbx),
		Files: map[string]string{
			"pjsip.conf":      callsPJSIPConf(n),
			"extensions.conf": callsExtensions,
		},
	})
}

// startCallee starts a SIPp UAS for one call on ip:5060 (the address
// must be claimed) and waits until it listens. args go to SIPp (-d sets
// the scenario's pause).
func startCallee(t *testing.T, ip, scenario string, args ...string) *harness.SIPp {
	t.Helper()
	uas := harness.StartSIPp(t, harness.SIPpOptions{Scenario: scenario, LocalIP: ip, LocalPort: 5060,
		Timeout: 25 * time.Second, ExtraArgs: args})
	waitUDPListening(t, ip, 5060, 5*time.Second)
	return uas
}

// callOptions are the SIPp options of a call from alice (at ip) to exten
// through pbx. The digest uri must be the Request-URI (gopbx checks it),
// and SIPp's default is sip:remote_ip:remote_port: -auth_uri fixes that.
func callOptions(pbx *harness.PBX, ip, scenario, exten, password string, args ...string) harness.SIPpOptions {
	return harness.SIPpOptions{
		Scenario: scenario, Remote: pbx.Addr(), LocalIP: ip, Service: exten,
		Users:     "SEQUENTIAL\n" + callAliceUser + ";" + password + "\n",
		Timeout:   20 * time.Second,
		ExtraArgs: append([]string{"-auth_uri", exten + "@" + pbx.Addr()}, args...),
	}
}

// placeCall runs a UAC scenario from alice to exten and returns its result.
func placeCall(t *testing.T, pbx *harness.PBX, ip, scenario, exten string, args ...string) harness.SIPpResult {
	t.Helper()
	return harness.RunSIPp(t, callOptions(pbx, ip, scenario, exten, callAlicePassword, args...))
}

// finishCallee collects a UAS's result: it ends by itself after its call
// when the caller succeeded; otherwise it is stopped.
func finishCallee(uas *harness.SIPp, callerOK bool) harness.SIPpResult {
	if callerOK {
		return uas.Wait()
	}
	return uas.Stop()
}

// requireSIPpOK fails the test unless the SIPp run completed its call,
// and logs the run's message flow.
func requireSIPpOK(t *testing.T, who string, r harness.SIPpResult) {
	t.Helper()
	t.Logf("%s:\n%s", who, sipFlow(r.Messages))
	if !r.OK() || r.Successful != 1 {
		t.Errorf("%s: SIPp exit %d, %d successful, %d failed calls; want exit 0 and 1 successful call (errors: %s)",
			who, r.ExitCode, r.Successful, r.Failed, strings.TrimSpace(r.Errors))
	}
}

// waitCallsGone waits until gopbx has no channel and no call left.
func waitCallsGone(t *testing.T, pbx *harness.PBX) {
	t.Helper()
	pbx.WaitConsole(t, "core show channels", 5*time.Second, func(out string) bool {
		return len(channelRows(out)) == 0 && regexp.MustCompile(`(?m)^0 active channels`).MatchString(out)
	})
	pbx.WaitConsole(t, "core show calls", 5*time.Second, func(out string) bool {
		return regexp.MustCompile(`(?m)^0 active calls`).MatchString(out)
	})
}

// channelRows returns the channel rows of `core show channels` (names
// such as PJSIP/alice-00000001).
func channelRows(out string) []string {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "/") {
			rows = append(rows, line)
		}
	}
	return rows
}

// waitUDPListening waits until some process has a UDP socket bound to
// ip:port, read from /proc/net/udp so the probe never takes the port
// (addresses there are in host byte order: little-endian hosts).
func waitUDPListening(t *testing.T, ip string, port int, timeout time.Duration) {
	t.Helper()
	a := net.ParseIP(ip).To4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], port)
	deadline := time.Now().Add(timeout)
	for {
		if f, err := os.Open("/proc/net/udp"); err == nil {
			sc := bufio.NewScanner(f)
			found := false
			for sc.Scan() {
				if fl := strings.Fields(sc.Text()); len(fl) > 1 && fl[1] == want {
					found = true
				}
			}
			f.Close()
			if found {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on udp %s:%d after %v", ip, port, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sipFlow summarizes a SIPp message trace as its start lines in order,
// "> " for sent and "< " for received: "> INVITE sip:100@…", "< SIP/2.0 407 …".
func sipFlow(trace string) string {
	var out []string
	lines := strings.Split(trace, "\n")
	for i := 0; i+2 < len(lines); i++ {
		dir := ""
		switch {
		case strings.Contains(lines[i], "message sent"):
			dir = "> "
		case strings.Contains(lines[i], "message received"):
			dir = "< "
		default:
			continue
		}
		if first := strings.TrimSpace(lines[i+2]); first != "" {
			out = append(out, dir+first)
		}
	}
	return strings.Join(out, "\n")
}

// challenged reports whether the caller's trace shows a digest challenge
// answered with credentials.
func challenged(trace string) bool {
	return (strings.Contains(trace, "SIP/2.0 407") && strings.Contains(trace, "Proxy-Authorization: Digest")) ||
		(strings.Contains(trace, "SIP/2.0 401") && strings.Contains(trace, "Authorization: Digest"))
}

// An answered call hung up by the caller: both legs are up (console), the
// SDP passes through, the INVITE was challenged, nothing is left after the
// BYE, and the CDR says ANSWERED.
func TestCallAnswered(t *testing.T) {
	t.Parallel()
	n := newCallNet(70)
	pbx := startCallsPBX(t, n)
	bob := startCallee(t, harness.IP(t, n.bob), "uas_answer", "-d", "300")
	placed := time.Now()
	alice := harness.StartSIPp(t, callOptions(pbx, harness.IP(t, n.alice), "uac_call", "100", callAlicePassword, "-d", "3000"))

	// During the call: two channels, Up, one call.
	pbx.WaitConsole(t, "core show channels", 8*time.Second, func(out string) bool {
		rows := channelRows(out)
		up := 0
		for _, r := range rows {
			if (strings.HasPrefix(r, "PJSIP/alice-") || strings.HasPrefix(r, "PJSIP/bob-")) && strings.Contains(r, " Up ") {
				up++
			}
		}
		return len(rows) == 2 && up == 2 && strings.Contains(out, "1 active call\n")
	})
	if out := pbx.Console(t, "core show calls"); !strings.Contains(out, "1 active call\n") {
		t.Errorf("core show calls during the call:\n%s", out)
	}

	r := alice.Wait()
	requireSIPpOK(t, "caller alice", r)
	rb := finishCallee(bob, r.OK())
	requireSIPpOK(t, "callee bob", rb)
	ended := time.Now()
	if !challenged(r.Messages) {
		t.Errorf("the INVITE was not challenged (no 401/407 answered with credentials):\n%s", r.Messages)
	}
	// The callee leg goes to the AOR's static contact, user part included.
	if want := "INVITE sip:bob@" + n.bob + ":5060 SIP/2.0"; !strings.Contains(rb.Messages, want) {
		t.Errorf("bob's INVITE does not have the contact URI as Request-URI (%q):\n%s", want, sipFlow(rb.Messages))
	}
	// Media is anchored: each side sees gopbx's address, never the other's.
	if !strings.Contains(rb.Messages, "c=IN IP4 "+n.pbx) || strings.Contains(rb.Messages, "c=IN IP4 "+n.alice) {
		t.Errorf("bob's INVITE should offer gopbx's media address (c=IN IP4 %s), not alice's", n.pbx)
	}
	if !strings.Contains(r.Messages, "c=IN IP4 "+n.pbx) || strings.Contains(r.Messages, "c=IN IP4 "+n.bob) {
		t.Errorf("alice's 200 should answer with gopbx's media address (c=IN IP4 %s), not bob's", n.pbx)
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 100", func(c cdrRecord) bool { return c.Dst == "100" })
	// clid is `"name" <number>`, from the caller's From header.
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "100", DContext: "calls", CLID: `"alice" <alice>`, Channel: "alice", DstChannel: "bob",
		LastApp: "Dial", LastData: "PJSIP/bob,10", Disposition: "ANSWERED", MinBillSec: 2, From: placed, To: ended})
}

// The callee is busy: the caller gets 486 and the CDR says BUSY.
func TestCallBusy(t *testing.T) {
	t.Parallel()
	n := newCallNet(71)
	pbx := startCallsPBX(t, n)
	busy := startCallee(t, harness.IP(t, n.busybob), "uas_busy")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_expect_486", "101")
	requireSIPpOK(t, "caller alice (expects 486)", r)
	requireSIPpOK(t, "callee busybob", finishCallee(busy, r.OK()))
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 101", func(c cdrRecord) bool { return c.Dst == "101" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "101", DContext: "calls", Channel: "alice", DstChannel: "busybob",
		LastApp: "Dial", LastData: "PJSIP/busybob,10", Disposition: "BUSY", From: placed, To: time.Now()})
}

// Dial times out (2 s): the callee gets CANCEL, the caller 480, and the
// CDR says NO ANSWER.
func TestCallNoAnswer(t *testing.T) {
	t.Parallel()
	n := newCallNet(72)
	pbx := startCallsPBX(t, n)
	slow := startCallee(t, harness.IP(t, n.slowbob), "uas_noanswer")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_expect_480", "102")
	requireSIPpOK(t, "caller alice (expects 480)", r)
	requireSIPpOK(t, "callee slowbob (expects CANCEL)", finishCallee(slow, r.OK()))
	if r.OK() && r.Elapsed < 1800*time.Millisecond {
		t.Errorf("480 after %v, before Dial's 2 s timeout", r.Elapsed)
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 102", func(c cdrRecord) bool { return c.Dst == "102" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "102", DContext: "calls", Channel: "alice", DstChannel: "slowbob",
		LastApp: "Dial", LastData: "PJSIP/slowbob,2", Disposition: "NO ANSWER", From: placed, To: time.Now()})
}

// The caller cancels while the callee rings: the caller gets 200 to its
// CANCEL and 487, the callee gets CANCEL, the CDR says NO ANSWER.
func TestCallCallerCancels(t *testing.T) {
	t.Parallel()
	n := newCallNet(73)
	pbx := startCallsPBX(t, n)
	slow := startCallee(t, harness.IP(t, n.slowbob), "uas_noanswer")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_expect_487_cancel", "120")
	requireSIPpOK(t, "caller alice (CANCEL, expects 487)", r)
	rs := finishCallee(slow, r.OK())
	requireSIPpOK(t, "callee slowbob (expects CANCEL)", rs)
	if !strings.Contains(rs.Messages, "CANCEL sip:") {
		t.Errorf("slowbob received no CANCEL")
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 120", func(c cdrRecord) bool { return c.Dst == "120" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "120", DContext: "calls", Channel: "alice", DstChannel: "slowbob",
		LastApp: "Dial", LastData: "PJSIP/slowbob,30", Disposition: "NO ANSWER", From: placed, To: time.Now()})
}

// Calls the dialplan refuses: no such extension (404), Hangup(17) (486),
// Hangup(21) (403). Nothing is left behind.
func TestCallRejected(t *testing.T) {
	t.Parallel()
	n := newCallNet(74)
	pbx := startCallsPBX(t, n)
	alice := harness.IP(t, n.alice)
	for _, c := range []struct{ exten, scenario string }{
		{"999", "uac_expect_404"},
		{"486", "uac_expect_486"},
		{"403", "uac_expect_403"},
	} {
		t.Run(c.exten, func(t *testing.T) {
			r := placeCall(t, pbx, alice, c.scenario, c.exten)
			requireSIPpOK(t, "caller alice ("+c.scenario+")", r)
			if r.OK() && !challenged(r.Messages) {
				t.Errorf("the INVITE was refused before authentication:\n%s", r.Messages)
			}
			waitCallsGone(t, pbx)
		})
	}
}

// Hold: the caller's re-INVITE (a=sendonly) reaches the callee, whose
// answer (a=recvonly) comes back to the caller (checked by the scenario).
func TestCallHold(t *testing.T) {
	t.Parallel()
	n := newCallNet(75)
	pbx := startCallsPBX(t, n)
	bob := startCallee(t, harness.IP(t, n.bob), "uas_answer", "-d", "300")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_call_hold", "100", "-d", "1000")
	requireSIPpOK(t, "caller alice (hold)", r)
	rb := finishCallee(bob, r.OK())
	requireSIPpOK(t, "callee bob", rb)
	// Anchored media: gopbx answers the hold itself (the scenario checks
	// a=recvonly) and bob stays in his session, hearing music on hold.
	if got := strings.Count(rb.Messages, "INVITE sip:"); got != 1 {
		t.Errorf("bob received %d INVITEs, want only the call's (the hold is answered by gopbx)", got)
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 100", func(c cdrRecord) bool { return c.Dst == "100" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "100", DContext: "calls", Channel: "alice", DstChannel: "bob",
		LastApp: "Dial", LastData: "PJSIP/bob,10", Disposition: "ANSWERED", MinBillSec: 1, From: placed, To: time.Now()})
}

// The callee hangs up: its BYE ends the caller's leg with a BYE.
func TestCallCalleeHangsUp(t *testing.T) {
	t.Parallel()
	n := newCallNet(76)
	pbx := startCallsPBX(t, n)
	bye := startCallee(t, harness.IP(t, n.byebob), "uas_answer_then_bye", "-d", "1500")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_call_wait_bye", "110")
	requireSIPpOK(t, "caller alice (waits for BYE)", r)
	requireSIPpOK(t, "callee byebob (hangs up)", finishCallee(bye, r.OK()))
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 110", func(c cdrRecord) bool { return c.Dst == "110" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "110", DContext: "calls", Channel: "alice", DstChannel: "byebob",
		LastApp: "Dial", LastData: "PJSIP/byebob,10", Disposition: "ANSWERED", MinBillSec: 1, From: placed, To: time.Now()})
}

// The callee sends its 200 again after the ACK (its view: the ACK was
// lost): gopbx's outgoing leg must ACK it again (RFC 3261 13.2.2.4), or
// the callee's scenario fails waiting for the second ACK.
func TestCallCalleeRetransmits200(t *testing.T) {
	t.Parallel()
	n := newCallNet(83)
	pbx := startCallsPBX(t, n)
	bob := startCallee(t, harness.IP(t, n.bob), "uas_answer_reack")
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_call", "100", "-d", "1500")
	requireSIPpOK(t, "caller alice", r)
	rb := finishCallee(bob, r.OK())
	requireSIPpOK(t, "callee bob (sends its 200 twice)", rb)
	if acks := strings.Count(rb.Messages, "ACK sip:"); acks < 2 {
		t.Errorf("bob got %d ACKs, want one per 200 (2):\n%s", acks, sipFlow(rb.Messages))
	}
	waitCallsGone(t, pbx)
}

// Dial(PJSIP/slowbob&PJSIP/bob): both ring, bob answers and is bridged,
// slowbob gets CANCEL.
func TestCallParallelDial(t *testing.T) {
	t.Parallel()
	n := newCallNet(77)
	pbx := startCallsPBX(t, n)
	slow := startCallee(t, harness.IP(t, n.slowbob), "uas_ring_only")
	bob := startCallee(t, harness.IP(t, n.bob), "uas_answer", "-d", "1000")
	placed := time.Now()
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_call", "103", "-d", "1000")
	requireSIPpOK(t, "caller alice", r)
	rb := finishCallee(bob, r.OK())
	requireSIPpOK(t, "callee bob (answers)", rb)
	rs := finishCallee(slow, r.OK())
	requireSIPpOK(t, "callee slowbob (rings, gets CANCEL)", rs)
	if !strings.Contains(r.Messages, "c=IN IP4 "+n.pbx) {
		t.Errorf("alice's 200 does not carry gopbx's anchored SDP (c=IN IP4 %s)", n.pbx)
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 103 answered by bob", func(c cdrRecord) bool {
		return c.Dst == "103" && strings.HasPrefix(c.DstChannel, "PJSIP/bob-")
	})
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "103", DContext: "calls", Channel: "alice", DstChannel: "bob",
		LastApp: "Dial", LastData: "PJSIP/slowbob&PJSIP/bob,10", Disposition: "ANSWERED", From: placed, To: time.Now()})
}

// A wrong password: the INVITE is challenged, the retry refused with 403,
// and no call reaches the callee (a bare UDP socket on bob's address).
func TestCallWrongPassword(t *testing.T) {
	t.Parallel()
	n := newCallNet(79)
	pbx := startCallsPBX(t, n)
	sink, err := net.ListenPacket("udp4", harness.HostPort(harness.IP(t, n.bob), 5060))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	r := harness.RunSIPp(t, callOptions(pbx, harness.IP(t, n.alice), "uac_expect_403", "100", "not-"+callAlicePassword))
	requireSIPpOK(t, "caller alice with a wrong password (expects 403)", r)
	if r.OK() && !challenged(r.Messages) {
		t.Errorf("403 without a challenge first:\n%s", r.Messages)
	}
	_ = sink.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 65536)
	if k, from, err := sink.ReadFrom(buf); err == nil {
		t.Errorf("bob received a message from %s after a failed authentication:\n%s", from, buf[:k])
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("read on bob's socket: %v", err)
	}
	waitCallsGone(t, pbx)
	if recs := readCDRs(t, pbx); len(recs) != 0 {
		t.Errorf("an unauthenticated INVITE left CDRs: %v", recs)
	}
}

// Two registered baresip phones: alice dials 200, which Dials bob; both
// see the call established, alice hangs up, both see it closed, and the
// CDR says ANSWERED.
func TestCallBaresip(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "baresip")
	n := newCallNet(78)
	ip := harness.IP(t, n.pbx)
	conf := fmt.Sprintf(`[transport-udp]
type=transport
protocol=udp
bind=%s:5060
`, ip)
	for _, u := range []string{"alice", "bob"} {
		conf += fmt.Sprintf(`
[%[1]s]
type=endpoint
context=calls
disallow=all
allow=ulaw
auth=%[1]s
aors=%[1]s
[%[1]s]
type=auth
auth_type=userpass
username=%[1]s
password=%[1]s-pw
[%[1]s]
type=aor
max_contacts=1
`, u)
	}
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: map[string]string{
		"pjsip.conf":      conf,
		"extensions.conf": "[calls]\nexten => 200,1,Dial(PJSIP/bob,20)\n same => n,Hangup()\n",
	}})
	alice := harness.StartBaresip(t, harness.BaresipOptions{Name: "alice", IP: harness.IP(t, n.alice),
		User: "alice", Password: "alice-pw", Domain: pbx.Addr(), ToneHz: 1000})
	bob := harness.StartBaresip(t, harness.BaresipOptions{Name: "bob", IP: harness.IP(t, n.bob),
		User: "bob", Password: "bob-pw", Domain: pbx.Addr(), ToneHz: 600})
	for _, ua := range []*harness.Baresip{alice, bob} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	placed := time.Now()
	if err := alice.Dial("sip:200@" + pbx.Addr()); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	out := pbx.Console(t, "core show channels")
	if rows := channelRows(out); len(rows) != 2 {
		t.Errorf("core show channels during the call: %d channels, want 2:\n%s", len(rows), out)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitCallsGone(t, pbx)
	rec := waitCDR(t, pbx, 5*time.Second, "dst 200", func(c cdrRecord) bool { return c.Dst == "200" })
	checkCDR(t, rec, cdrWant{Src: "alice", Dst: "200", DContext: "calls", Channel: "alice", DstChannel: "bob",
		LastApp: "Dial", LastData: "PJSIP/bob,20", Disposition: "ANSWERED", MinBillSec: 1, From: placed, To: time.Now()})
}

// TestCallScenarios runs the call scenarios against each other, SIPp UAC
// against SIPp UAS without gopbx, so a call test failing against gopbx
// is never a broken scenario: every pair that must succeed does, and the
// checks the scenarios claim (SDP in the 200, a=recvonly on hold, the
// final code, the digest uri) fail against a peer that breaks them.
func TestCallScenarios(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	file := func(name string) string {
		b, err := os.ReadFile(harness.ScenarioPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// withChallenge makes a UAS challenge the first INVITE with a 407 and
	// wait for its ACK before the scenario proper.
	withChallenge := func(xml string) string {
		const challenge = `<recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag09[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="sipp", nonce="[pid]x[call_number]", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  `
		i := strings.Index(xml, `<recv request="INVITE"`)
		return xml[:i] + challenge + xml[i:]
	}
	// reject is uas_busy answering code instead of 486.
	reject := func(code, reason string) string {
		return strings.Replace(file("uas_busy"), "SIP/2.0 486 Busy Here", "SIP/2.0 "+code+" "+reason, 1)
	}
	// noSDPAnswer is uas_answer whose 200 to the INVITE has no body.
	noSDPAnswer := func() string {
		x := file("uas_answer")
		i := strings.Index(x, "SIP/2.0 200 OK")
		j := i + strings.Index(x[i:], "Content-Type: application/sdp")
		k := i + strings.Index(x[i:], "]]>")
		return x[:j] + "Content-Length: 0\n\n    " + x[k:]
	}

	// uas487First answers a CANCEL with 487 to the INVITE first, and with
	// 200 to the CANCEL only after the ACK.
	const uas487First = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas_487_before_200">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <recv request="CANCEL">
    <action>
      <ereg regexp="^[[:blank:]]*([^[:blank:]].*)$" search_in="hdr" header="Via:" check_it="true" assign_to="v_all,c_via"/>
      <ereg regexp="^[[:blank:]]*([^[:blank:]].*)$" search_in="hdr" header="From:" check_it="true" assign_to="f_all,c_from"/>
      <ereg regexp="^[[:blank:]]*([^[:blank:]].*)$" search_in="hdr" header="To:" check_it="true" assign_to="t_all,c_to"/>
      <ereg regexp="([0-9]+) CANCEL" search_in="hdr" header="CSeq:" check_it="true" assign_to="s_all,c_num"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$c_num] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      Via: [$c_via]
      From: [$c_from]
      To: [$c_to];tag=[pid]SIPpTag01[call_number]
      Call-ID: [call_id]
      CSeq: [$c_num] CANCEL
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="v_all,f_all,t_all,s_all"/>
</scenario>
`

	const ok, uacFails, uasFails = "ok", "uac fails", "uas fails"
	cases := []struct {
		name, uac, uas   string
		uacArgs, uasArgs []string
		// defaultAuthURI leaves out -auth_uri: SIPp then digests
		// sip:remote_ip:remote_port, not the Request-URI.
		defaultAuthURI bool
		expect         string
		check          func(t *testing.T, uac, uas harness.SIPpResult)
	}{
		{name: "call", uac: "uac_call", uas: "uas_answer", uacArgs: []string{"-d", "200"}, expect: ok},
		{name: "call/auth", uac: "uac_call", uas: "uas_auth_answer", uacArgs: []string{"-d", "200"}, expect: ok,
			check: func(t *testing.T, uac, _ harness.SIPpResult) {
				if !challenged(uac.Messages) || !strings.Contains(uac.Messages, "CSeq: 2 INVITE") {
					t.Errorf("no authenticated INVITE with CSeq 2")
				}
			}},
		{name: "call/hold", uac: "uac_call_hold", uas: "uas_answer", uacArgs: []string{"-d", "200"}, expect: ok},
		{name: "call/hold/auth", uac: "uac_call_hold", uas: withChallenge(file("uas_answer")), uacArgs: []string{"-d", "200"}, expect: ok},
		{name: "call/callee-bye", uac: "uac_call_wait_bye", uas: "uas_answer_then_bye", uasArgs: []string{"-d", "300"}, expect: ok,
			check: func(t *testing.T, uac, _ harness.SIPpResult) {
				// The UAS's BYE swaps From and To and targets the caller's Contact.
				if !regexp.MustCompile(`BYE sip:alice@[0-9.]+:[0-9]+;transport=UDP SIP/2.0`).MatchString(uac.Messages) {
					t.Errorf("the BYE does not target the caller's Contact")
				}
			}},
		{name: "call/callee-bye/auth", uac: "uac_call_wait_bye", uas: withChallenge(file("uas_answer_then_bye")), uasArgs: []string{"-d", "300"}, expect: ok},
		{name: "486", uac: "uac_expect_486", uas: "uas_busy", expect: ok},
		{name: "486/auth", uac: "uac_expect_486", uas: withChallenge(file("uas_busy")), expect: ok},
		{name: "404", uac: "uac_expect_404", uas: reject("404", "Not Found"), expect: ok},
		{name: "403/auth", uac: "uac_expect_403", uas: withChallenge(reject("403", "Forbidden")), expect: ok},
		{name: "480", uac: "uac_expect_480", uas: reject("480", "Temporarily Unavailable"), expect: ok},
		{name: "cancel", uac: "uac_expect_487_cancel", uas: "uas_noanswer", expect: ok},
		{name: "cancel/ring-only", uac: "uac_expect_487_cancel", uas: "uas_ring_only", expect: ok},
		{name: "cancel/auth", uac: "uac_expect_487_cancel", uas: withChallenge(file("uas_ring_only")), expect: ok},
		{name: "cancel/183", uac: "uac_expect_487_cancel", uas: strings.Replace(file("uas_ring_only"), "180 Ringing", "183 Session Progress", 1), expect: ok},
		{name: "cancel/487-before-200", uac: "uac_expect_487_cancel", uas: uas487First, expect: ok},

		// Each check must bite.
		{name: "bad/no-sdp-in-200", uac: "uac_call", uas: noSDPAnswer(), uacArgs: []string{"-d", "200"}, expect: uacFails},
		{name: "bad/hold-answer-sendrecv", uac: "uac_call_hold", uas: strings.ReplaceAll(file("uas_answer"), "a=recvonly", "a=sendrecv"),
			uacArgs: []string{"-d", "200"}, expect: uacFails},
		{name: "bad/404-gets-486", uac: "uac_expect_404", uas: "uas_busy", expect: uacFails},
		{name: "bad/call-gets-486", uac: "uac_call", uas: "uas_busy", expect: uacFails},
		{name: "bad/486-gets-404", uac: "uac_expect_486", uas: reject("404", "Not Found"), expect: uacFails},
		{name: "bad/cancel-but-answered", uac: "uac_expect_487_cancel", uas: "uas_answer", expect: uacFails},
		{name: "bad/digest-uri", uac: "uac_call", uas: "uas_auth_answer", defaultAuthURI: true, expect: uasFails},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			local, remote := harness.NextIP(t), harness.NextIP(t)
			timeout := 10 * time.Second
			if c.expect != ok {
				timeout = 4 * time.Second
			}
			uas := harness.StartSIPp(t, harness.SIPpOptions{Scenario: c.uas, LocalIP: remote, LocalPort: 5060,
				Timeout: timeout + 2*time.Second, ExtraArgs: c.uasArgs})
			waitUDPListening(t, remote, 5060, 5*time.Second)
			uacArgs := c.uacArgs
			if !c.defaultAuthURI {
				uacArgs = append([]string{"-auth_uri", "100@" + harness.HostPort(remote, 5060)}, uacArgs...)
			}
			r := harness.RunSIPp(t, harness.SIPpOptions{Scenario: c.uac, Remote: harness.HostPort(remote, 5060), LocalIP: local,
				Service: "100", Users: "SEQUENTIAL\nalice;secret\n", Timeout: timeout, ExtraArgs: uacArgs})
			ru := finishCallee(uas, r.OK())
			switch c.expect {
			case ok:
				requireSIPpOK(t, "uac "+c.uac, r)
				requireSIPpOK(t, "uas", ru)
			case uacFails:
				if r.OK() {
					t.Errorf("uac %s succeeded against a peer that breaks its check", c.uac)
				}
			case uasFails:
				if ru.OK() {
					t.Errorf("uas succeeded against a UAC that breaks its check")
				}
			}
			if c.check != nil && !t.Failed() {
				c.check(t, r, ru)
			}
		})
	}
}

// TestCallDirectMedia: with direct_media=yes on both endpoints gopbx does
// not anchor the call: each side gets the other's session description,
// and the caller's hold re-INVITE is carried to the callee.
func TestCallDirectMedia(t *testing.T) {
	t.Parallel()
	n := newCallNet(165)
	harness.RequireTool(t, "sipp")
	pbx := harness.StartPBX(t, harness.PBXOptions{
		IP: harness.IP(t, n.pbx),
		Files: map[string]string{
			"pjsip.conf":      strings.ReplaceAll(callsPJSIPConf(n), "type=endpoint\n", "type=endpoint\ndirect_media=yes\n"),
			"extensions.conf": callsExtensions,
		},
	})
	bob := startCallee(t, harness.IP(t, n.bob), "uas_answer", "-d", "300")
	r := placeCall(t, pbx, harness.IP(t, n.alice), "uac_call_hold", "100", "-d", "1000")
	requireSIPpOK(t, "caller alice (hold, direct media)", r)
	rb := finishCallee(bob, r.OK())
	requireSIPpOK(t, "callee bob", rb)
	if !strings.Contains(rb.Messages, "c=IN IP4 "+n.alice) {
		t.Errorf("bob's INVITE should carry alice's SDP (c=IN IP4 %s) with direct media", n.alice)
	}
	if !strings.Contains(r.Messages, "c=IN IP4 "+n.bob) {
		t.Errorf("alice's 200 should carry bob's SDP (c=IN IP4 %s) with direct media", n.bob)
	}
	if got := strings.Count(rb.Messages, "INVITE sip:"); got < 2 || !strings.Contains(rb.Messages, "a=sendonly") {
		t.Errorf("bob received %d INVITEs, want the call's and the hold re-INVITE (a=sendonly) carried through", got)
	}
	waitCallsGone(t, pbx)
}
