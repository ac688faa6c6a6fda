package sipserver

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestWaited: Request.Waited counts from the read of the datagram, so a
// new INVITE queued behind busy fast-path workers reports the time it
// queued (what overload_wait refuses on), and one on an idle server
// almost none.
func TestWaited(t *testing.T) {
	const hold = 300 * time.Millisecond
	waited := make(chan time.Duration, 4)
	_, addr := udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.OPTIONS: HandlerFunc(func(ctx context.Context, r *Request) {
			time.Sleep(hold) // keeps a fast-path worker busy
			r.Respond(200, "OK")
		}),
		sip.INVITE: HandlerFunc(func(ctx context.Context, r *Request) {
			waited <- r.Waited()
			r.Respond(486, "Busy Here")
		}),
	})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(msg string) {
		t.Helper()
		msg = strings.ReplaceAll(msg, "SIP/2.0/UDP", "SIP/2.0/UDP "+c.LocalAddr().String())
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}

	send(request("INVITE", "UDP", "Contact: <sip:tester@127.0.0.1>"))
	if w := <-waited; w <= 0 || w > 100*time.Millisecond {
		t.Errorf("idle server: INVITE waited %v, want a little above 0", w)
	}

	for i := 0; i < fastWorkers; i++ { // every worker sleeps in an OPTIONS
		send(request("OPTIONS", "UDP", ""))
	}
	time.Sleep(50 * time.Millisecond)
	send(request("INVITE", "UDP", "Contact: <sip:tester@127.0.0.1>"))
	select {
	case w := <-waited:
		if w < hold-100*time.Millisecond {
			t.Errorf("INVITE queued behind %d busy workers waited %v, want about %v", fastWorkers, w, hold-50*time.Millisecond)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the queued INVITE never reached its handler")
	}
}
