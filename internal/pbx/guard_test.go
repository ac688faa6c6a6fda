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

// TestOverloadWait: with the fast path's workers all busy, a new INVITE
// queues; once it has waited more than overload_wait the guard answers it
// 503 with Retry-After and its handler never runs. On an idle server the
// same INVITE reaches its handler.
func TestOverloadWait(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := &guard{log: log}
	cfg := security.Defaults()
	cfg.OverloadWait = 100 * time.Millisecond
	g.shield = security.New(cfg, log, nil)

	s, err := sipserver.New(sipserver.Options{UserAgent: "gopbx-test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	s.SetGate(g)
	s.Handle(sip.OPTIONS, sipserver.HandlerFunc(func(ctx context.Context, r *sipserver.Request) {
		time.Sleep(400 * time.Millisecond) // keeps a fast-path worker busy
		r.Respond(200, "OK")
	}))
	handled := make(chan struct{}, 4)
	s.Handle(sip.INVITE, sipserver.HandlerFunc(func(ctx context.Context, r *sipserver.Request) {
		handled <- struct{}{}
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
	c, err := net.Dial("udp", s.Listeners()[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seq := 0
	send := func(method string) {
		t.Helper()
		seq++
		msg := method + " sip:100@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bK-ow-" + strconv.Itoa(seq) + ";rport\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=a\r\nTo: <sip:100@127.0.0.1>\r\n" +
			"Call-ID: ow-" + strconv.Itoa(seq) + "\r\nCSeq: 1 " + method + "\r\n" +
			"Contact: <sip:tester@" + c.LocalAddr().String() + ">\r\nContent-Length: 0\r\n\r\n"
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// final reads responses until one for INVITE that is not provisional.
	final := func() string {
		t.Helper()
		buf := make([]byte, 65535)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("no final response to the INVITE: %v", err)
			}
			res := string(buf[:n])
			if strings.Contains(res, " INVITE\r\n") && !strings.HasPrefix(res, "SIP/2.0 1") {
				return res
			}
		}
	}

	send("INVITE")
	if res := final(); !strings.HasPrefix(res, "SIP/2.0 486 ") {
		t.Fatalf("idle server: %q, want the handler's 486", strings.SplitN(res, "\r\n", 2)[0])
	}
	<-handled

	for i := 0; i < 128; i++ { // sipserver's fastWorkers: all sleep in an OPTIONS
		send("OPTIONS")
	}
	time.Sleep(50 * time.Millisecond)
	send("INVITE")
	res := final()
	if !strings.HasPrefix(res, "SIP/2.0 503 ") || !strings.Contains(res, "Retry-After: 2") {
		t.Fatalf("INVITE queued past overload_wait: %q, want 503 with Retry-After", res)
	}
	select {
	case <-handled:
		t.Error("the refused INVITE reached its handler")
	case <-time.After(200 * time.Millisecond):
	}
}
