package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Kamailio in front (issue #6 §5): examples/kamailio/dispatcher.cfg, as
// shipped, balances calls over two gopbx nodes listed in the shipped
// dispatcher.list (only its addresses replaced). Addresses: Kamailio
// 127.0.0.171, node A .172, node B .173, the SIPp caller .174.

const (
	dsKamailioIP = "127.0.0.171"
	dsNodeAIP    = "127.0.0.172"
	dsNodeBIP    = "127.0.0.173"
	dsCallerIP   = "127.0.0.174"
)

// dsNodeFiles is the config of a gopbx node behind Kamailio: calls from
// Kamailio's address are identified as endpoint "kamailio" (no auth, as
// Asterisk's identify), extension 100 answers, waits 1 s and hangs up, and
// Kamailio is exempt from the INVITE rate limit.
func dsNodeFiles(nodeIP, name string) map[string]string {
	return map[string]string{
		"pjsip.conf": fmt.Sprintf(`[global]
type=global
user_agent=gopbx-%[3]s

[transport-udp]
type=transport
protocol=udp
bind=%[1]s:5060

[kamailio]
type=endpoint
context=from-kamailio
disallow=all
allow=ulaw
[kamailio]
type=identify
endpoint=kamailio
match=%[2]s
`, nodeIP, dsKamailioIP, name),
		"extensions.conf": `[from-kamailio]
exten => 100,1,Answer()
 same => n,Wait(1)
 same => n,Hangup()
; congestion: 503, which Kamailio takes for a failed node
exten => 503,1,Hangup(34)
`,
		"gopbx.conf": "[security]\nban_ignore = " + dsKamailioIP + "/32\n",
	}
}

// dsList is the shipped dispatcher.list with its two node addresses
// replaced by the test's.
func dsList(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "examples", "kamailio", "dispatcher.list"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"1 sip:192.168.0.1 0 1 weight=50\n", "1 sip:192.168.0.2 0 1 weight=50\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("examples/kamailio/dispatcher.list lacks the line %q", want)
		}
	}
	return strings.NewReplacer("sip:192.168.0.1 ", "sip:"+dsNodeAIP+" ", "sip:192.168.0.2 ", "sip:"+dsNodeBIP+" ").Replace(s)
}

// dsCalls counts the answered calls to extension 100 in a node's CDRs.
func dsCalls(t *testing.T, pbx *harness.PBX) int {
	t.Helper()
	n := 0
	for _, r := range readCDRs(t, pbx) {
		if r.Dst == "100" && r.Disposition == "ANSWERED" {
			n++
		}
	}
	return n
}

// dsWaitCalls waits until the nodes' CDRs hold wantTotal answered calls
// (rows are written a moment after the BYE) and returns the counts.
func dsWaitCalls(t *testing.T, a, b *harness.PBX, wantTotal int) (int, int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		na, nb := dsCalls(t, a), dsCalls(t, b)
		if na+nb >= wantTotal || time.Now().After(deadline) {
			return na, nb
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dsByesViaKamailio counts the BYEs SIPp received whose top Via is
// Kamailio's and whose next Via is a node's.
func dsByesViaKamailio(trace string) int {
	n := 0
	for _, m := range strings.Split(trace, "-----------------------------------------------") {
		if !strings.Contains(m, "message received") || !strings.Contains(m, "\nBYE sip:") {
			continue
		}
		var vias []string
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, "Via: ") {
				vias = append(vias, line)
			}
		}
		if len(vias) == 2 && strings.HasPrefix(vias[0], "Via: SIP/2.0/UDP "+dsKamailioIP+";") &&
			(strings.HasPrefix(vias[1], "Via: SIP/2.0/UDP "+dsNodeAIP) || strings.HasPrefix(vias[1], "Via: SIP/2.0/UDP "+dsNodeBIP)) {
			n++
		}
	}
	return n
}

// dsFlagsRe matches a destination of `kamcmd dispatcher.list`: its URI,
// then its FLAGS (first letter A active, I inactive, T trying, D disabled;
// P probing).
var dsFlagsRe = regexp.MustCompile(`URI: (sip:[^\s]+)\s+FLAGS: ([A-Z]+)`)

// dsState returns the dispatcher flags per destination URI.
func dsState(t *testing.T, kam *harness.Kamailio) map[string]string {
	t.Helper()
	out := kam.RPC(t, "dispatcher.list")
	st := map[string]string{}
	for _, m := range dsFlagsRe.FindAllStringSubmatch(out, -1) {
		st[m[1]] = m[2]
	}
	if len(st) == 0 {
		t.Fatalf("kamcmd dispatcher.list: no destination in:\n%s", out)
	}
	return st
}

// dsWaitInactive polls Kamailio until it has marked uri inactive.
func dsWaitInactive(t *testing.T, kam *harness.Kamailio, uri string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st := dsState(t, kam)
		if strings.HasPrefix(st[uri], "I") {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("Kamailio did not mark %s inactive within %v: %v", uri, timeout, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dsWaitActive polls Kamailio until every uri is active again.
func dsWaitActive(t *testing.T, kam *harness.Kamailio, timeout time.Duration, uris ...string) {
	t.Helper()
	start := time.Now()
	for {
		st := dsState(t, kam)
		up := 0
		for _, u := range uris {
			if strings.HasPrefix(st[u], "A") {
				up++
			}
		}
		if up == len(uris) {
			return
		}
		if time.Since(start) > timeout {
			t.Fatalf("Kamailio did not mark %v active again within %v: %v", uris, timeout, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dsCall runs SIPp calls to exten through Kamailio.
func dsCall(t *testing.T, kam *harness.Kamailio, scenario, exten string, calls int) harness.SIPpResult {
	t.Helper()
	return harness.RunSIPp(t, harness.SIPpOptions{
		Scenario: scenario, Remote: kam.Addr(), LocalIP: dsCallerIP, Service: exten,
		Users: "SEQUENTIAL\ncaller;unused\n", Calls: calls, Rate: 10, Limit: calls,
		Timeout: 15 * time.Second,
	})
}

func TestKamailioDispatcher(t *testing.T) {
	harness.RequireTool(t, "sipp")
	harness.RequireTool(t, "kamailio")
	harness.RequireTool(t, "kamcmd")
	start := time.Now()
	kamIP := harness.IP(t, dsKamailioIP)
	harness.IP(t, dsCallerIP) // dsCall's address
	nodeA := harness.StartPBX(t, harness.PBXOptions{IP: harness.IP(t, dsNodeAIP), Files: dsNodeFiles(dsNodeAIP, "a")})
	nodeB := harness.StartPBX(t, harness.PBXOptions{IP: harness.IP(t, dsNodeBIP), Files: dsNodeFiles(dsNodeBIP, "b")})

	list := filepath.Join(t.TempDir(), "dispatcher.list")
	if err := os.WriteFile(list, []byte(dsList(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(harness.ModuleRoot(t), "examples", "kamailio", "dispatcher.cfg")
	// Probe every second so a dead node is out within about 4 s (2 missed
	// probes, each given up after FR_TIMER 2 s).
	kam := harness.StartKamailioFile(t, kamIP, cfg,
		"LISTEN_IP="+kamIP,
		fmt.Sprintf("DISPATCHER_LIST=%q", list),
		"DS_PING_INTERVAL=1")
	uriA, uriB := "sip:"+dsNodeAIP, "sip:"+dsNodeBIP
	if st := dsState(t, kam); !strings.HasPrefix(st[uriA], "A") || !strings.HasPrefix(st[uriB], "A") {
		t.Fatalf("at start both nodes should be active: %v", st)
	}

	// 0. A node answering 5xx fails the call over to the next node: with
	// both answering 503, Kamailio tries each once and gives the caller
	// 503. Both are marked inactive, and their answered probes bring them
	// back.
	if r := dsCall(t, kam, "dispatcher_expect_503", "503", 1); !r.OK() {
		t.Fatalf("503 from both nodes: want 503 after failover (exit %d)", r.ExitCode)
	}
	// No CDR: like Asterisk (cdr.conf unanswered=no) gopbx logs none for
	// an unanswered call that dialled nobody, so count calls instead.
	for _, n := range []*harness.PBX{nodeA, nodeB} {
		n.WaitConsole(t, "core show calls", 5*time.Second, func(out string) bool {
			return regexp.MustCompile(`(?m)^1 call processed`).MatchString(out)
		})
	}
	for _, u := range []string{uriA, uriB} {
		if want := "dispatcher: " + u + " failed INVITE (503), marked inactive"; !strings.Contains(kam.Log(), want) {
			t.Errorf("503 from both nodes: Kamailio's log lacks %q", want)
		}
	}
	dsWaitActive(t, kam, 5*time.Second, uriA, uriB)
	t.Logf("503 failover checked at %v", time.Since(start).Round(100*time.Millisecond))

	// 1. Both nodes up: every call succeeds and both nodes take calls
	// (weights 50/50).
	r := dsCall(t, kam, "uac_call_wait_bye", "100", 20)
	if !r.OK() || r.Successful != 20 {
		t.Fatalf("both nodes up: %d of 20 calls succeeded (exit %d)", r.Successful, r.ExitCode)
	}
	// The nodes hang up: their BYEs must follow the Record-Route through
	// Kamailio, not go to the caller's Contact directly.
	if n := dsByesViaKamailio(r.Messages); n != 20 {
		t.Errorf("both nodes up: %d of 20 BYEs reached the caller through Kamailio; messages:\n%s", n, sipFlow(r.Messages))
	}
	na, nb := dsWaitCalls(t, nodeA, nodeB, 20)
	t.Logf("both nodes up: node A took %d calls, node B %d (at %v)", na, nb, time.Since(start).Round(100*time.Millisecond))
	if na+nb != 20 || na == 0 || nb == 0 {
		t.Fatalf("both nodes up: node A took %d calls, node B %d; want 20 spread over both", na, nb)
	}

	// 2. Node B stops: the OPTIONS probes mark it inactive, and every call
	// goes to node A.
	nodeB.Stop(t)
	took := dsWaitInactive(t, kam, uriB, 10*time.Second)
	t.Logf("node B stopped: marked inactive after %v", took.Round(100*time.Millisecond))
	if r := dsCall(t, kam, "uac_call_wait_bye", "100", 10); !r.OK() || r.Successful != 10 {
		t.Fatalf("node B down: %d of 10 calls succeeded (exit %d)", r.Successful, r.ExitCode)
	}
	na2, nb2 := dsWaitCalls(t, nodeA, nodeB, 30)
	if na2 != na+10 || nb2 != nb {
		t.Fatalf("node B down: node A took %d of the 10 calls, node B %d; want all on node A", na2-na, nb2-nb)
	}

	// 3. Node A stops too. A call sent at once still goes to it (the
	// probes have not noticed yet): it times out, failure_route marks A
	// and finds no next node, so the caller gets 503. Then no node is
	// active and a call gets 404 No destination without being relayed.
	nodeA.Stop(t)
	if r := dsCall(t, kam, "dispatcher_expect_503", "100", 1); !r.OK() {
		t.Fatalf("last node down: want 503 from the failure route (exit %d)", r.ExitCode)
	}
	dsWaitInactive(t, kam, uriA, 10*time.Second)
	r = dsCall(t, kam, "uac_expect_404", "100", 1)
	if !r.OK() {
		t.Fatalf("no node up: want 404 No destination (exit %d)", r.ExitCode)
	}
	if !strings.Contains(r.Messages, "SIP/2.0 404 No destination") {
		t.Errorf("no node up: the 404 should say No destination:\n%s", sipFlow(r.Messages))
	}
}
