package pbx

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/security"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// overloadPeer is a UDP client of a sipserver guarded by a guard with
// cfg, whose OPTIONS handler holds a fast-path worker for hold and whose
// INVITE handler answers 486 at once (announced on handled).
type overloadPeer struct {
	t       *testing.T
	c       net.Conn // INVITEs, whose responses are read
	bulk    net.Conn // the load, whose responses are not
	seq     int
	handled chan struct{}
	srv     *sipserver.Server
	guard   *guard
}

func newOverloadPeer(t *testing.T, cfg security.Config, hold time.Duration) *overloadPeer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := &guard{log: log}
	g.shield = security.New(cfg, log, nil)
	s, err := sipserver.New(sipserver.Options{UserAgent: "gopbx-test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	s.SetGate(g)
	s.Handle(sip.OPTIONS, sipserver.HandlerFunc(func(ctx context.Context, r *sipserver.Request) {
		time.Sleep(hold) // keeps a fast-path worker busy
		r.Respond(200, "OK")
	}))
	p := &overloadPeer{t: t, handled: make(chan struct{}, 4), srv: s, guard: g}
	s.Handle(sip.INVITE, sipserver.HandlerFunc(func(ctx context.Context, r *sipserver.Request) {
		p.handled <- struct{}{}
		r.Respond(486, "Busy Here")
	}))
	if err := s.Listen(context.Background(), []sipserver.Listener{{Proto: "udp", Addr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	for _, c := range []*net.Conn{&p.c, &p.bulk} {
		if *c, err = net.Dial("udp", s.Listeners()[0].Addr); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*c).Close() })
	}
	return p
}

// send sends a request: an INVITE from p.c, anything else from p.bulk.
func (p *overloadPeer) send(method string) {
	p.t.Helper()
	p.seq++
	c, seq := p.bulk, strconv.Itoa(p.seq)
	if method == "INVITE" {
		c = p.c
	}
	msg := method + " sip:100@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bK-ow-" + seq + ";rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=a\r\nTo: <sip:100@127.0.0.1>\r\n" +
		"Call-ID: ow-" + seq + "\r\nCSeq: 1 " + method + "\r\n" +
		"Contact: <sip:tester@" + c.LocalAddr().String() + ">\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(msg)); err != nil {
		p.t.Fatal(err)
	}
}

// final reads responses until one for INVITE that is not provisional and
// returns its status line; a 503 must carry Retry-After.
func (p *overloadPeer) final() string {
	p.t.Helper()
	buf := make([]byte, 65535)
	p.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, err := p.c.Read(buf)
		if err != nil {
			p.t.Fatalf("no final response to the INVITE: %v", err)
		}
		res := string(buf[:n])
		if strings.Contains(res, " INVITE\r\n") && !strings.HasPrefix(res, "SIP/2.0 1") {
			line, _, _ := strings.Cut(res, "\r\n")
			if strings.HasPrefix(line, "SIP/2.0 503 ") && !strings.Contains(res, "Retry-After: 2") {
				p.t.Fatalf("503 without Retry-After:\n%s", res)
			}
			return line
		}
	}
}

// notHandled fails the test if an INVITE reached its handler.
func (p *overloadPeer) notHandled() {
	p.t.Helper()
	select {
	case <-p.handled:
		p.t.Error("the refused INVITE reached its handler")
	case <-time.After(200 * time.Millisecond):
	}
}

// TestOverloadWait: with the fast path's workers all busy, a new INVITE
// queues; once it has waited more than overload_wait the guard answers it
// 503 with Retry-After and its handler never runs. On an idle server the
// same INVITE reaches its handler.
func TestOverloadWait(t *testing.T) {
	cfg := security.Defaults()
	cfg.OverloadWait = 100 * time.Millisecond
	cfg.OverloadDelay = 0
	p := newOverloadPeer(t, cfg, 400*time.Millisecond)

	p.send("INVITE")
	if res := p.final(); !strings.HasPrefix(res, "SIP/2.0 486 ") {
		t.Fatalf("idle server: %q, want the handler's 486", res)
	}
	<-p.handled

	for i := 0; i < 128; i++ { // sipserver's fastWorkers: all sleep in an OPTIONS
		p.send("OPTIONS")
	}
	time.Sleep(50 * time.Millisecond)
	p.send("INVITE")
	if res := p.final(); !strings.HasPrefix(res, "SIP/2.0 503 ") {
		t.Fatalf("INVITE queued past overload_wait: %q, want 503 with Retry-After", res)
	}
	p.notHandled()
	if n := p.guard.overloaded.Load(); n != 1 {
		t.Errorf("%d INVITEs counted as refused after queueing, want 1", n)
	}
}

// TestOverloadDelay: after a backlog in which every request of two
// intervals waited (waves of OPTIONS each holding every worker for 120 ms,
// so each wave waits for the one before), a new INVITE gets 503: the
// standing delay is what counts, not the INVITE's own wait. Once the
// backlog has gone, INVITEs reach their handler again.
func TestOverloadDelay(t *testing.T) {
	cfg := security.Defaults()
	cfg.OverloadWait = 0
	cfg.OverloadDelay = 50 * time.Millisecond
	p := newOverloadPeer(t, cfg, 120*time.Millisecond)

	p.send("INVITE")
	if res := p.final(); !strings.HasPrefix(res, "SIP/2.0 486 ") {
		t.Fatalf("idle server: %q, want the handler's 486", res)
	}
	<-p.handled

	for i := 0; i < 4*128; i++ { // four waves of sipserver's fastWorkers
		p.send("OPTIONS")
	}
	time.Sleep(400 * time.Millisecond) // the fourth wave has been taken
	p.send("INVITE")
	if res := p.final(); !strings.HasPrefix(res, "SIP/2.0 503 ") {
		t.Fatalf("INVITE after a backlog: %q, want 503 with Retry-After", res)
	}
	p.notHandled()
	if n := p.srv.Overloaded(); n != 1 {
		t.Errorf("%d INVITEs refused in the read loop, want 1 (the guard is a sipserver.OverloadGate)", n)
	}
	var out strings.Builder
	if err := writeOverload(&out, p.srv, p.guard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"overload_delay:", "50ms", "overload_wait:", "off", "refused in the read loop (503):  1", "refused after queueing (503):    0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("security show overload lacks %q:\n%s", want, out.String())
		}
	}

	time.Sleep(400 * time.Millisecond) // no backlog for a while
	p.send("INVITE")
	if res := p.final(); !strings.HasPrefix(res, "SIP/2.0 486 ") {
		t.Fatalf("INVITE once the backlog is gone: %q, want the handler's 486", res)
	}
}
