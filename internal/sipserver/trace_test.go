package sipserver

import (
	"context"
	"io"
	"log/slog"
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

// optionsServer serves OPTIONS with 200 on a UDP socket of 127.0.0.1 (the
// fast path) until the test ends.
func optionsServer(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(Options{UserAgent: "gopbx-test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle(sip.OPTIONS, HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(200, "OK") }))
	if err := s.Listen(context.Background(), []Listener{{Proto: "udp", Addr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, s.Listeners()[0].Addr
}

// TestServerHeader: responses carry the user agent as Server; a reload
// that changes it (SetUserAgent) changes the header, and an empty one
// leaves it out.
func TestServerHeader(t *testing.T) {
	s, addr := optionsServer(t)
	for _, ua := range []string{"gopbx-test", "Asterisk PBX 20", ""} {
		s.SetUserAgent(ua)
		res := exchangeUDP(t, addr, request("OPTIONS", "UDP", ""))
		has := strings.Contains(res, "\r\nServer: ")
		if ua != "" && !strings.Contains(res, "\r\nServer: "+ua+"\r\n") || ua == "" && has {
			t.Errorf("user agent %q: response\n%s", ua, res)
		}
	}
}
