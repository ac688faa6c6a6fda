package sipserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// overloadGate admits everything in Admit (which counts the requests that
// got that far) and refuses in the read loop above a fixed delay.
type overloadGate struct {
	delay time.Duration
	quiet bool // Overloaded returns false: drop without answering

	mu       sync.Mutex
	refused  []RefusedCall
	admitted []string // Call-IDs
}

func (g *overloadGate) Blocked(net.Addr) bool { return false }
func (g *overloadGate) Admit(r *Request) bool {
	g.mu.Lock()
	g.admitted = append(g.admitted, r.CallID().Value())
	g.mu.Unlock()
	return true
}
func (g *overloadGate) OverloadDelay() time.Duration { return g.delay }
func (g *overloadGate) Overloaded(c RefusedCall) bool {
	g.mu.Lock()
	g.refused = append(g.refused, c)
	g.mu.Unlock()
	return !g.quiet
}

// standAt makes the server's delay meter report a standing delay of d,
// as after two complete intervals in which every request waited d.
func standAt(s *Server, d time.Duration) {
	s.fast.delay.standing.Store(int64(d))
	s.fast.delay.last.Store(time.Now().UnixNano())
}

// TestOverloadReadLoop: while the standing delay is above the gate's
// limit, a new INVITE is answered 503 + Retry-After from the read loop,
// with the server's sl- To tag and every Via, and no handler or Admit sees
// it; a re-INVITE, an INVITE the raw scan will not answer (a folded line)
// and, once the backlog is gone, a new INVITE all go the normal way.
func TestOverloadReadLoop(t *testing.T) {
	handled := make(chan string, 8)
	s, addr := udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.INVITE: HandlerFunc(func(ctx context.Context, r *Request) {
			handled <- r.CallID().Value()
			r.Respond(486, "Busy Here")
		}),
	})
	g := &overloadGate{delay: 50 * time.Millisecond}
	s.SetGate(g)
	p := dialPeer(t, addr)

	standAt(s, 80*time.Millisecond)
	inv := rawInvite("INVITE", "z9hG4bKov1", "ov1@test", "")
	inv = strings.Replace(inv, "Max-Forwards: 70\r\n", "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKproxy\r\nMax-Forwards: 70\r\nUser-Agent: phone 1.0\r\n", 1)
	p.send(inv)
	res := p.expect(2*time.Second, "503 Service Unavailable")
	for _, want := range []string{"\r\nRetry-After: 2\r\n", "\r\nCall-ID: ov1@test\r\n", "\r\nCSeq: 1 INVITE\r\n",
		"\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKov1;rport\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKproxy\r\n",
		"\r\nFrom: <sip:tester@127.0.0.1>;tag=abc\r\n", "\r\nServer: gopbx-test\r\n", "\r\nContent-Length: 0\r\n\r\n"} {
		if !strings.Contains(res, want) {
			t.Errorf("503 lacks %q:\n%s", want, res)
		}
	}
	if tag := toTagOf(res); !strings.HasPrefix(tag, "sl-") {
		t.Errorf("503 To tag %q, want the server's sl- tag", tag)
	}
	if _, err := sip.ParseMessage([]byte(res)); err != nil {
		t.Errorf("503 does not parse: %v\n%s", err, res)
	}
	g.mu.Lock()
	if len(g.refused) != 1 || g.refused[0].CallID != "ov1@test" || g.refused[0].FromUser != "tester" ||
		g.refused[0].UserAgent != "phone 1.0" || !strings.HasPrefix(g.refused[0].Src, "127.0.0.1:") || len(g.admitted) != 0 {
		t.Errorf("gate saw refused %+v, admitted %v; want ov1@test refused in the read loop only", g.refused, g.admitted)
	}
	g.mu.Unlock()
	if n := s.Overloaded(); n != 1 {
		t.Errorf("Overloaded() = %d, want 1", n)
	}

	// Its ACK is absorbed like any stateless refusal's.
	p.send(rawInvite("ACK", "z9hG4bKov1", "ov1@test", toTagOf(res)))

	// Not for the read loop: a re-INVITE and a folded header line.
	standAt(s, 80*time.Millisecond)
	p.send(rawInvite("INVITE", "z9hG4bKov2", "ov2@test", "dlg2"))
	p.expect(2*time.Second, "486 Busy Here")
	folded := strings.Replace(rawInvite("INVITE", "z9hG4bKov3", "ov3@test", ""), "Max-Forwards: 70\r\n", "Subject: a\r\n b\r\n", 1)
	standAt(s, 80*time.Millisecond)
	p.send(folded)
	p.expect(2*time.Second, "486 Busy Here")

	// At or below the limit: the normal way.
	standAt(s, 50*time.Millisecond)
	p.send(rawInvite("INVITE", "z9hG4bKov4", "ov4@test", ""))
	p.expect(2*time.Second, "486 Busy Here")

	for _, want := range []string{"ov2@test", "ov3@test", "ov4@test"} {
		select {
		case id := <-handled:
			if id != want {
				t.Fatalf("handler got %s, want %s", id, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("handler never got %s", want)
		}
	}
	if n := s.Overloaded(); n != 1 {
		t.Errorf("Overloaded() = %d after the normal INVITEs, want 1", n)
	}
}

// TestOverloadReadLoopQuiet: the gate's false drops the INVITE unanswered.
func TestOverloadReadLoopQuiet(t *testing.T) {
	s, addr := udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.INVITE: HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(486, "Busy Here") }),
	})
	g := &overloadGate{delay: 50 * time.Millisecond, quiet: true}
	s.SetGate(g)
	p := dialPeer(t, addr)
	standAt(s, time.Second)
	p.send(rawInvite("INVITE", "z9hG4bKq1", "q1@test", ""))
	if status, msg := p.next(300 * time.Millisecond); status != "" {
		t.Fatalf("dropped INVITE was answered:\n%s", msg)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.refused) != 1 || len(g.admitted) != 0 {
		t.Fatalf("gate saw refused %v, admitted %v", g.refused, g.admitted)
	}
}

func TestScanNewInvite(t *testing.T) {
	base := rawInvite("INVITE", "z9hG4bKs", "s@test", "")
	for _, tc := range []struct {
		name, from, to string
		ok             bool
	}{
		{"plain", "", "", true},
		{"compact forms", "To: <sip:100@127.0.0.1>", "t: <sip:100@127.0.0.1>", true},
		{"To tag", "To: <sip:100@127.0.0.1>", "To: <sip:100@127.0.0.1>;TAG=x", false},
		{"two To", "To: <sip:100@127.0.0.1>", "To: <sip:100@127.0.0.1>\r\nTo: <sip:101@127.0.0.1>", false},
		{"no Call-ID", "Call-ID: s@test\r\n", "", false},
		{"CSeq of another method", "CSeq: 1 INVITE", "CSeq: 1 BYE", false},
		{"folded", "Max-Forwards: 70\r\n", "Max-Forwards:\r\n 70\r\n", false},
		{"no blank line", "Content-Length: 0\r\n\r\n", "Content-Length: 0\r\n", false},
		{"no Via", "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKs;rport\r\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := base
			if tc.from != "" {
				msg = strings.Replace(msg, tc.from, tc.to, 1)
			}
			h, ok := scanNewInvite([]byte(msg))
			if ok != tc.ok {
				t.Fatalf("scanNewInvite ok = %v, want %v:\n%s", ok, tc.ok, msg)
			}
			if ok && (string(h.callID) != "s@test" || string(h.to) != "<sip:100@127.0.0.1>") {
				t.Fatalf("scanned %+v", h)
			}
		})
	}
}

func TestSipUser(t *testing.T) {
	for in, want := range map[string]string{
		`"Alice" <sip:alice@example.com>;tag=1`: "alice",
		`sips:bob@example.com;tag=2`:            "bob",
		`<sip:example.com>;tag=3`:               "",
		`<tel:+123>;tag=4`:                      "",
	} {
		if got := string(sipUser([]byte(in))); got != want {
			t.Errorf("sipUser(%q) = %q, want %q", in, got, want)
		}
	}
}

// admitGate refuses new INVITEs in Admit, the way a Gate that is not an
// OverloadGate must (pbx's guard before the read loop refused them).
type admitGate struct{}

func (admitGate) Blocked(net.Addr) bool { return false }
func (admitGate) Admit(r *Request) bool {
	tx := r.DetachTx()
	r.Respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "2"))
	if tx != nil {
		tx.Terminate()
	}
	return false
}

// BenchmarkOverloadRefusal: a new INVITE (with an SDP body, as phones send
// them) refused with 503 while the server is behind, from the read loop
// or after the queue, the parse and Admit. ns/op includes the client's
// send and read on the same CPUs.
func BenchmarkOverloadRefusal(b *testing.B) {
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
	for _, tc := range []struct {
		name string
		gate Gate
	}{{"read-loop", &overloadGate{delay: time.Millisecond}}, {"admit", admitGate{}}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := New(Options{UserAgent: "gopbx-test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			s.Handle(sip.INVITE, HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(486, "Busy Here") }))
			if err := s.Listen(context.Background(), []Listener{{Proto: "udp", Addr: "127.0.0.1:0"}}); err != nil {
				b.Fatal(err)
			}
			defer s.Shutdown(context.Background())
			s.SetGate(tc.gate)
			c, err := net.Dial("udp", s.Listeners()[0].Addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 4096)
			b.ResetTimer()
			for i := range b.N {
				standAt(s, time.Second)
				msg := strings.Replace(rawInvite("INVITE", "z9hG4bKb"+strconv.Itoa(i), "b"+strconv.Itoa(i)+"@test", ""),
					"Content-Length: 0\r\n\r\n", "Content-Type: application/sdp\r\nContent-Length: "+strconv.Itoa(len(sdp))+"\r\n\r\n"+sdp, 1)
				if _, err := c.Write([]byte(msg)); err != nil {
					b.Fatal(err)
				}
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, err := c.Read(buf)
				if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 503 ") {
					b.Fatalf("response %q, %v", buf[:n], err)
				}
			}
		})
	}
}
