package sipserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// startInviteServer serves INVITE on 127.0.0.1 (UDP, fast path) with the
// given handler and returns the server and its address.
func startInviteServer(t *testing.T, h HandlerFunc) (*Server, string) {
	t.Helper()
	return udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.INVITE: h,
		sip.ACK:    HandlerFunc(func(context.Context, *Request) {}),
		sip.CANCEL: HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(481, "Call/Transaction Does Not Exist") }),
	})
}

// udpTestServer serves handlers on a UDP socket of 127.0.0.1 (the fast
// path) until the test ends, and returns the server and its address.
func udpTestServer(t *testing.T, handlers map[sip.RequestMethod]Handler) (*Server, string) {
	t.Helper()
	s, err := New(Options{UserAgent: "gopbx-test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for m, h := range handlers {
		s.Handle(m, h)
	}
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

// rawInvite is an INVITE (or, with method, its CANCEL or ACK: same branch,
// Call-ID and CSeq number, as RFC 3261 §9.1 and §17.1.1.3 build them).
func rawInvite(method, branch, callID, toTag string) string {
	to := "To: <sip:100@127.0.0.1>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	return method + " sip:100@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:tester@127.0.0.1>;tag=abc\r\n" + to + "\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 " + method + "\r\n" +
		"Contact: <sip:tester@127.0.0.1:5999>\r\n" +
		"Content-Length: 0\r\n\r\n"
}

type udpPeer struct {
	t *testing.T
	c *net.UDPConn
}

func dialPeer(t *testing.T, addr string) *udpPeer {
	t.Helper()
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpPeer{t: t, c: c}
}

func (p *udpPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.c.Write([]byte(msg)); err != nil {
		p.t.Fatal(err)
	}
}

// next returns the status line and the whole of the next datagram, or ""
// when none comes within d.
func (p *udpPeer) next(d time.Duration) (string, string) {
	buf := make([]byte, 4096)
	p.c.SetReadDeadline(time.Now().Add(d))
	n, err := p.c.Read(buf)
	if err != nil {
		return "", ""
	}
	msg := string(buf[:n])
	line, _, _ := strings.Cut(msg, "\r\n")
	return line, msg
}

func (p *udpPeer) expect(d time.Duration, status string) string {
	p.t.Helper()
	line, msg := p.next(d)
	if !strings.Contains(line, status) {
		p.t.Fatalf("got %q, want %q", line, status)
	}
	return msg
}

// A final non-2xx is retransmitted until its ACK (Timer G), a retransmitted
// INVITE gets the last response again, and the ACK stops it all.
func TestInviteTxNon2xxUntilACK(t *testing.T) {
	_, addr := startInviteServer(t, func(ctx context.Context, r *Request) {
		r.Respond(486, "Busy Here")
	})
	p := dialPeer(t, addr)
	p.send(rawInvite("INVITE", "z9hG4bKbusy1", "busy1@test", ""))
	msg := p.expect(2*time.Second, "486 Busy Here")
	p.expect(time.Second, "486 Busy Here") // Timer G: T1 later
	p.send(rawInvite("INVITE", "z9hG4bKbusy1", "busy1@test", ""))
	p.expect(time.Second, "486 Busy Here") // the retransmitted INVITE
	tag := toTagOf(msg)
	p.send(rawInvite("ACK", "z9hG4bKbusy1", "busy1@test", tag))
	deadline := time.Now().Add(2500 * time.Millisecond) // Timer G would have fired at 1.5 s and 3.5 s
	for time.Now().Before(deadline) {
		if line, _ := p.next(time.Until(deadline)); line != "" {
			// One retransmission may have crossed the ACK.
			if !strings.Contains(line, "486") {
				t.Fatalf("after the ACK: %q", line)
			}
			if line2, _ := p.next(2 * time.Second); line2 != "" {
				t.Fatalf("486 still retransmitted after the ACK: %q", line2)
			}
			break
		}
	}
}

// A CANCEL gets 200, the handler sees the cancellation, and the INVITE ends
// with a 487 carrying the To tag of the 180.
func TestInviteTxCancel(t *testing.T) {
	cancelled := make(chan struct{})
	_, addr := startInviteServer(t, func(ctx context.Context, r *Request) {
		res := r.NewResponse(180, "Ringing")
		res.To().Params.Add("tag", "ring1")
		r.Send(res)
		r.Tx.OnCancel(func(*sip.Request) { close(cancelled) })
		<-r.Tx.Done()
		r.SetResponded()
	})
	p := dialPeer(t, addr)
	p.send(rawInvite("INVITE", "z9hG4bKcan1", "can1@test", ""))
	p.expect(2*time.Second, "180 Ringing")
	time.Sleep(50 * time.Millisecond) // the handler registers OnCancel after its 180
	p.send(rawInvite("CANCEL", "z9hG4bKcan1", "can1@test", ""))
	ok := p.expect(time.Second, "200 OK")
	if !strings.Contains(ok, "CSeq: 1 CANCEL") {
		t.Fatalf("200 is not the CANCEL's:\n%s", ok)
	}
	term := p.expect(time.Second, "487 Request Terminated")
	if !strings.Contains(term, "CSeq: 1 INVITE") || toTagOf(term) != "ring1" {
		t.Fatalf("487 should answer the INVITE with the 180's To tag:\n%s", term)
	}
	select {
	case <-cancelled:
	case <-time.After(time.Second):
		t.Fatal("OnCancel not called")
	}
	p.send(rawInvite("ACK", "z9hG4bKcan1", "can1@test", "ring1"))
	if line, _ := p.next(1500 * time.Millisecond); line != "" && !strings.Contains(line, "487") {
		t.Fatalf("after the ACK: %q", line)
	}
	// A CANCEL for no known INVITE is the handler's: 481.
	p.send(rawInvite("CANCEL", "z9hG4bKnone", "none@test", ""))
	for {
		line, _ := p.next(time.Second)
		if line == "" {
			t.Fatal("no answer to an unmatched CANCEL")
		}
		if strings.Contains(line, "481") {
			break
		}
	}
}

// A handler that returns without responding as soon as it sees the
// CANCEL (Dial ending on the dialog's context) must not take the caller's
// 487 away: the transaction used to end with the handler, between the
// OnCancel callbacks and the 487.
func TestInviteTxCancelHandlerReturns(t *testing.T) {
	_, addr := startInviteServer(t, func(ctx context.Context, r *Request) {
		res := r.NewResponse(180, "Ringing")
		res.To().Params.Add("tag", "ring2")
		r.Send(res)
		seen := make(chan struct{})
		r.Tx.OnCancel(func(*sip.Request) {
			close(seen)
			time.Sleep(100 * time.Millisecond) // the handler is gone by now
		})
		<-seen
	})
	p := dialPeer(t, addr)
	p.send(rawInvite("INVITE", "z9hG4bKcan2", "can2@test", ""))
	p.expect(2*time.Second, "180 Ringing")
	time.Sleep(50 * time.Millisecond) // the handler registers OnCancel after its 180
	p.send(rawInvite("CANCEL", "z9hG4bKcan2", "can2@test", ""))
	p.expect(time.Second, "200 OK")
	term := p.expect(time.Second, "487 Request Terminated")
	if toTagOf(term) != "ring2" {
		t.Fatalf("487 without the 180's To tag:\n%s", term)
	}
	if line, _ := p.next(300 * time.Millisecond); line != "" {
		t.Fatalf("after the 487: %q", line) // e.g. a 500 for the handler's silence
	}
}

// A 2xx moves the transaction to Accepted: the handler may send it again
// (sipgo's dialog retransmits it until the ACK) and a retransmitted INVITE
// gets it too.
func TestInviteTxAccepted(t *testing.T) {
	_, addr := startInviteServer(t, func(ctx context.Context, r *Request) {
		res := r.NewResponse(200, "OK")
		res.To().Params.Add("tag", "ok1")
		r.Send(res)
		if err := r.Tx.Respond(res); err != nil {
			t.Errorf("2xx retransmission refused: %v", err)
		}
		if err := r.Tx.Respond(r.NewResponse(486, "Busy Here")); err == nil {
			t.Error("a final response after the 2xx was accepted")
		}
	})
	p := dialPeer(t, addr)
	p.send(rawInvite("INVITE", "z9hG4bKok1", "ok1@test", ""))
	p.expect(2*time.Second, "200 OK")
	p.expect(time.Second, "200 OK")
	p.send(rawInvite("INVITE", "z9hG4bKok1", "ok1@test", ""))
	p.expect(time.Second, "200 OK")
}

func toTagOf(msg string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if strings.HasPrefix(l, "To:") {
			if _, tag, ok := strings.Cut(l, "tag="); ok {
				tag, _, _ = strings.Cut(tag, ";")
				return tag
			}
		}
	}
	return ""
}

// The table forgets every transaction once its retention is over: refused
// and ACKed (Timer I), accepted (retransTTL), refused and never ACKed
// (Timer H is 32 s: not waited for here, see TestInviteTxNon2xxUntilACK).
func TestInviteTableDrains(t *testing.T) {
	s, addr := startInviteServer(t, func(ctx context.Context, r *Request) {
		if strings.HasPrefix(r.CallID().Value(), "ok") {
			r.Send(r.NewResponse(200, "OK"))
			return
		}
		r.Respond(486, "Busy Here")
	})
	p := dialPeer(t, addr)
	const n = 20
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%d@drain", i)
		p.send(rawInvite("INVITE", "z9hG4bKok"+id, "ok"+id, ""))
		p.expect(2*time.Second, "200 OK")
		p.send(rawInvite("INVITE", "z9hG4bKno"+id, "no"+id, ""))
		msg := p.expect(2*time.Second, "486 Busy Here")
		p.send(rawInvite("ACK", "z9hG4bKno"+id, "no"+id, toTagOf(msg)))
	}
	count := func() int {
		total := 0
		for i := range s.fast.invites.shards {
			sh := &s.fast.invites.shards[i]
			sh.mu.Lock()
			total += len(sh.m)
			sh.mu.Unlock()
		}
		return total
	}
	if c := count(); c != 2*n {
		t.Fatalf("%d transactions in the table right after, want %d", c, 2*n)
	}
	deadline := time.Now().Add(retransTTL + 3*time.Second)
	for count() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions still in the table after %v", count(), retransTTL+3*time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A stateless refusal of a new call (the overload and flood 503s:
// DetachTx) carries the server's stateless To tag, and its ACK is absorbed
// in the read hook instead of reaching sipgo and the ACK handler; an ACK
// with another tag still does, and a refused re-INVITE keeps its tag.
func TestStatelessRefusalACK(t *testing.T) {
	acks := make(chan string, 4)
	_, addr := udpTestServer(t, map[sip.RequestMethod]Handler{
		sip.INVITE: HandlerFunc(func(ctx context.Context, r *Request) {
			tx := r.DetachTx()
			r.Respond(503, "Service Unavailable")
			tx.Terminate()
		}),
		sip.ACK: HandlerFunc(func(ctx context.Context, r *Request) { acks <- r.CallID().Value() }),
	})
	p := dialPeer(t, addr)
	p.send(rawInvite("INVITE", "z9hG4bKsl1", "sl1@test", ""))
	res := p.expect(2*time.Second, "503 Service Unavailable")
	tag := toTagOf(res)
	if !strings.HasPrefix(tag, "sl-") {
		t.Fatalf("stateless 503 To tag %q, want the server's sl- tag:\n%s", tag, res)
	}
	p.send(rawInvite("ACK", "z9hG4bKsl1", "sl1@test", tag))
	p.send(rawInvite("ACK", "z9hG4bKother", "other@test", "other1"))
	select {
	case id := <-acks:
		if id != "other@test" {
			t.Fatalf("the ACK of the stateless 503 reached the handler (%s)", id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("an ordinary ACK never reached the handler")
	}
	select {
	case id := <-acks:
		t.Fatalf("the ACK of the stateless 503 reached the handler (%s)", id)
	case <-time.After(200 * time.Millisecond):
	}
	// A re-INVITE refused the same way keeps its dialog's To tag.
	p.send(rawInvite("INVITE", "z9hG4bKsl2", "sl2@test", "dlg1"))
	if res := p.expect(2*time.Second, "503 Service Unavailable"); toTagOf(res) != "dlg1" {
		t.Fatalf("stateless 503 to a re-INVITE has To tag %q, want dlg1", toTagOf(res))
	}
}
