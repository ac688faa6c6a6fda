package chansip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/media"
)

func netipParse(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

// leg is one SIP dialog of a call; it is the channel.Driver of its channel.
type leg struct {
	d   *Driver
	ep  *endpoint.Endpoint
	ch  *channel.Channel
	log *slog.Logger

	// Inbound.
	in   *sipgo.DialogServerSession
	inTx *releasableTx // what in holds as its INVITE transaction
	req  *sip.Request

	// Outbound.
	out    *sipgo.DialogClientSession
	invite *sip.Request
	target target
	cancel context.CancelFunc // stops ringing: CANCEL

	mu        sync.Mutex
	remote    []byte
	local     []byte
	final     bool // a final response was sent (inbound) or received (outbound)
	answered  bool
	byeSeen   bool
	done      inflight // the BYE or final response in flight
	remoteSDP []byte

	media *media.Stream // anchored media, nil for pass-through

	// released is closed (once, by release) to let the inbound INVITE's
	// handler return: when the 200 is ACKed or the call ends (onInvite).
	released    chan struct{}
	releaseOnce sync.Once
}

func (l *leg) release() { l.releaseOnce.Do(func() { close(l.released) }) }

func (l *leg) RemoteSDP() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.remote != nil {
		return l.remote
	}
	return l.remoteSDP
}

func (l *leg) setRemoteSDP(b []byte) {
	l.mu.Lock()
	l.remote = b
	l.mu.Unlock()
}

func (l *leg) SetLocalSDP(b []byte) {
	if l.media != nil {
		return // anchored: we answer with our own session
	}
	l.mu.Lock()
	l.local = b
	l.mu.Unlock()
}

func (l *leg) localSDP() []byte {
	if l.media != nil {
		return l.media.LocalSDP()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local
}

func (l *leg) markFinal() {
	l.mu.Lock()
	l.final = true
	l.mu.Unlock()
}

func (l *leg) markBye() {
	l.mu.Lock()
	l.byeSeen = true
	l.mu.Unlock()
}

// wait blocks until the leg's last message (BYE, final response) is done,
// so the INVITE handler does not return under it; at shutdown it gives up
// after a second, since a BYE to a peer that is gone retransmits for 32 s.
func (l *leg) wait() {
	idle := l.done.idle()
	select {
	case <-idle:
		return
	case <-l.d.shutdown:
	}
	// Shutting down: a BYE's transaction can take its whole 32 s; give
	// what is in flight a second.
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// inflight counts a leg's messages in flight (a BYE, a final response
// waiting for its ACK), like a sync.WaitGroup whose Wait is a channel:
// leg.wait needs no goroutine and no ticker, which it started for every
// call, though on the leg that received the BYE nothing is in flight.
type inflight struct {
	mu     sync.Mutex
	n      int
	idleCh chan struct{} // closed when n drops to 0; made by idle
}

func (f *inflight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inflight) finish() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.idleCh != nil {
		close(f.idleCh)
		f.idleCh = nil
	}
	f.mu.Unlock()
}

// idle returns a channel closed once nothing is in flight (at once if
// nothing is now).
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return closedDone
	}
	if f.idleCh == nil {
		f.idleCh = make(chan struct{})
	}
	return f.idleCh
}

// Header implements channel.HeaderReader for the inbound INVITE.
func (l *leg) Header(name string) (string, bool) {
	if l.req == nil {
		if l.invite == nil {
			return "", false
		}
		if h := l.invite.GetHeader(name); h != nil {
			return h.Value(), true
		}
		return "", false
	}
	if h := l.req.GetHeader(name); h != nil {
		return h.Value(), true
	}
	return "", false
}

// Answer sends 200 OK with the local answer (the callee's SDP when
// bridged, or an inactive answer) and waits for the ACK.
func (l *leg) Answer(ctx context.Context, ch *channel.Channel) error {
	if l.in == nil {
		return errors.New("chansip: answer on an outbound leg")
	}
	l.mu.Lock()
	if l.final {
		l.mu.Unlock()
		return channel.ErrHungUp
	}
	l.final, l.answered = true, true
	l.mu.Unlock()
	body := l.localSDP()
	if body == nil {
		body = inactiveAnswer(l.RemoteSDP(), l.in.InviteRequest)
	}
	res := sip.NewSDPResponseFromRequest(l.in.InviteRequest, body)
	addSessionTimer(l.in.InviteRequest, res)
	l.addServer(res)
	// WriteResponse retransmits the 200 until the ACK comes (RFC 6026).
	// It takes no context and, in sipgo v1.7.3, never gives up on a
	// missing ACK (its 64×T1 timer is re-armed on every retransmission),
	// so a caller that never ACKs would hold the call and a shutdown:
	// wait for it only while the channel lives. The BYE that follows
	// terminates the INVITE transaction, which ends the retransmissions.
	done := make(chan error, 1)
	l.d.srv.Go(func() { done <- l.in.WriteResponse(res) })
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("chansip: answer: %w", err)
		}
		l.release()
		l.inTx.release() // ACKed: the dialog no longer needs the transaction
		return nil
	case <-ch.Context().Done():
		return channel.ErrHungUp
	}
}

func (l *leg) addServer(res *sip.Response) {
	if ua := l.d.cfg.Load().UserAgent; ua != "" && res.GetHeader("Server") == nil {
		res.AppendHeader(sip.NewHeader("Server", ua))
	}
}

// Indicate sends 180/183 before answer; busy and congestion become the
// final response (486/503), as chan_pjsip does.
func (l *leg) Indicate(ctx context.Context, ch *channel.Channel, ind channel.Indication) error {
	if l.in == nil {
		return nil
	}
	l.mu.Lock()
	final := l.final
	l.mu.Unlock()
	if final {
		return nil
	}
	var res *sip.Response
	switch ind {
	case channel.IndRinging:
		res = sip.NewResponseFromRequest(l.in.InviteRequest, 180, "Ringing", nil)
	case channel.IndProgress:
		res = sip.NewResponseFromRequest(l.in.InviteRequest, 183, "Session Progress", nil)
		if sdp := l.localSDP(); sdp != nil {
			res.SetBody(sdp)
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		}
	case channel.IndBusy:
		return l.finalResponse(486, "Busy Here")
	case channel.IndCongestion:
		return l.finalResponse(503, "Service Unavailable")
	default:
		return nil
	}
	l.addServer(res)
	return l.in.WriteResponse(res)
}

func (l *leg) finalResponse(code int, reason string) error {
	l.mu.Lock()
	if l.final {
		l.mu.Unlock()
		return nil
	}
	l.final = true
	l.mu.Unlock()
	res := sip.NewResponseFromRequest(l.in.InviteRequest, code, reason, nil)
	l.addServer(res)
	l.done.add()
	l.d.srv.Go(func() {
		defer l.done.finish()
		// WriteResponse waits for the ACK of the non-2xx final response.
		if err := l.in.WriteResponse(res); err != nil {
			l.log.Debug("final response", "error", err)
		}
	})
	return nil
}

// Hangup implements channel.Driver.
func (l *leg) Hangup(ch *channel.Channel, cause channel.Cause) {
	l.mu.Lock()
	final, answered, bye := l.final, l.answered, l.byeSeen
	l.mu.Unlock()
	if bye {
		return
	}
	if l.in != nil {
		if !final {
			code, reason := cause.SIPStatus()
			l.finalResponse(code, reason)
			return
		}
		if answered {
			l.sendBye(func(ctx context.Context) error { return l.in.Bye(ctx) })
		}
		return
	}
	// Outbound.
	if answered {
		l.sendBye(func(ctx context.Context) error { return l.out.Bye(ctx) })
		return
	}
	if l.cancel != nil {
		l.cancel() // WaitAnswer sends CANCEL
	}
}

func (l *leg) sendBye(bye func(context.Context) error) {
	l.done.add()
	l.d.srv.Go(func() {
		defer l.done.finish()
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		if err := bye(ctx); err != nil {
			l.log.Debug("bye", "error", err)
		}
	})
}

// Reinvite implements channel.Reinviter: a new offer to this leg's far end.
func (l *leg) Reinvite(ctx context.Context, offer []byte) ([]byte, error) {
	var target sip.Uri
	var do func(context.Context, *sip.Request) (*sip.Response, error)
	var write func(*sip.Request) error
	switch {
	case l.in != nil:
		target = l.in.InviteRequest.Contact().Address
		do, write = l.in.Do, l.in.WriteRequest
	case l.out != nil && l.out.InviteResponse != nil && l.out.InviteResponse.Contact() != nil:
		target = l.out.InviteResponse.Contact().Address
		do, write = l.out.Do, l.out.WriteRequest
	default:
		return nil, errors.New("chansip: re-invite on a leg without dialog")
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("chansip: re-invite answered %d", res.StatusCode)
	}
	ack := sip.NewRequest(sip.ACK, target)
	ack.AppendHeader(sip.HeaderClone(req.From()))
	if to := res.To(); to != nil {
		ack.AppendHeader(sip.HeaderClone(to))
	}
	ack.AppendHeader(sip.HeaderClone(req.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
	for _, h := range req.GetHeaders("Route") {
		ack.AppendHeader(sip.HeaderClone(h))
	}
	ack.SetTransport(req.Transport())
	ack.SetDestination(req.Destination())
	if err := write(ack); err != nil {
		l.log.Debug("re-invite ack", "error", err)
	}
	l.setRemoteSDP(res.Body())
	return res.Body(), nil
}

// inactiveAnswer answers an offer without media: same media lines with
// port 0 would end the streams, so it keeps the first codec, points at our
// address and marks the stream inactive until the media engine anchors it.
func inactiveAnswer(offer []byte, inv *sip.Request) []byte {
	host := "0.0.0.0"
	if c := inv.Recipient.Host; c != "" {
		if _, err := netip.ParseAddr(c); err == nil {
			host = c
		}
	}
	pt := "0"
	rtpmap := "a=rtpmap:0 PCMU/8000"
	for _, line := range strings.Split(string(offer), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "m=audio ") {
			f := strings.Fields(line)
			if len(f) > 3 {
				pt = f[3]
				rtpmap = ""
			}
		}
		if rtpmap == "" && strings.HasPrefix(line, "a=rtpmap:"+pt+" ") {
			rtpmap = line
		}
	}
	if rtpmap == "" {
		rtpmap = "a=rtpmap:" + pt + " PCMU/8000"
	}
	now := time.Now().Unix()
	return []byte(fmt.Sprintf("v=0\r\no=gopbx %d %d IN IP4 %s\r\ns=gopbx\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 9 RTP/AVP %s\r\n%s\r\na=inactive\r\n",
		now, now, host, host, pt, rtpmap))
}

var (
	_ channel.Driver       = (*leg)(nil)
	_ channel.SDPCarrier   = (*leg)(nil)
	_ channel.Reinviter    = (*leg)(nil)
	_ channel.HeaderReader = (*leg)(nil)
)

// holdChanged reacts to the far end's new direction: a leg that put us on
// hold (sendonly/inactive) makes the bridged party hear music on hold.
func (l *leg) holdChanged() {
	if l.ch == nil || l.d.onHold == nil {
		return
	}
	d := l.media.Direction()
	l.d.onHold(l.ch, d == media.SendOnly || d == media.Inactive)
}
