package sipserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestTrace: `sip set debug on` shows what sipgo's UDP reader received and
// what the fast path sent, with the peer's address; off, nothing is traced
// (sipgo's transports ask the tracers, see fanout.SIPTraceOn).
func TestTrace(t *testing.T) {
	s, addr := optionsServer(t)
	var mu sync.Mutex
	var got []string
	tr := s.Tracer()
	tr.SetSink(func(m string) { mu.Lock(); got = append(got, m); mu.Unlock() })
	take := func() []string { mu.Lock(); defer mu.Unlock(); g := got; got = nil; return g }

	if res := exchangeUDP(t, addr, request("OPTIONS", "UDP", "")); statusLine(res) != "SIP/2.0 200 OK" {
		t.Fatalf("got %q", res)
	}
	if g := take(); len(g) != 0 {
		t.Fatalf("traced with debug off: %q", g)
	}
	if sip.SIPDebug && sipTraceOn() {
		t.Fatal("sipgo's transports trace with every tracer off")
	}

	tr.Enable()
	defer tr.Disable()
	if !sipTraceOn() {
		t.Fatal("sipgo's transports do not trace with a tracer on")
	}
	if res := exchangeUDP(t, addr, request("OPTIONS", "UDP", "")); statusLine(res) != "SIP/2.0 200 OK" {
		t.Fatalf("got %q", res)
	}
	var g []string
	var in, out bool
	// The response's trace follows its write: it may come after the reply.
	for end := time.Now().Add(2 * time.Second); !(in && out) && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		for _, m := range take() {
			g = append(g, m)
			in = in || strings.HasPrefix(m, "<--- Received SIP request") && strings.Contains(m, "from UDP:127.0.0.1:") && strings.Contains(m, "OPTIONS sip:gopbx@")
			out = out || strings.HasPrefix(m, "<--- Transmitting SIP response") && strings.Contains(m, "SIP/2.0 200 OK")
		}
	}
	if !in || !out {
		t.Fatalf("trace with debug on has received %v, transmitted %v: %q", in, out, g)
	}
}

func sipTraceOn() bool { return fanout{}.SIPTraceOn() }

// optionsServer answers OPTIONS with 200 (udpTestServer).
func optionsServer(t *testing.T) (*Server, string) {
	t.Helper()
	return udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.OPTIONS: HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(200, "OK") }),
	})
}
