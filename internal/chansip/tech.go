package chansip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/codec"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/registrar"
)

// ErrUnavailable means the destination has no reachable contact (not
// registered, unknown peer): Dial reports CHANUNAVAIL.
var ErrUnavailable = errors.New("chansip: channel unavailable")

type tech struct {
	d    *Driver
	tech endpoint.Tech
}

// target is where an outbound leg sends its INVITE.
type target struct {
	uri       sip.Uri
	dest      string // ip:port
	transport string // UDP, TCP...
	local     string // our socket for UDP, "" to let sipgo pick
}

// Request implements channel.Tech: "1000", "100@gw", "100@192.0.2.1:5060".
func (t *tech) Request(ctx context.Context, reg *channel.Registry, resource string, caller *channel.Channel) (*channel.Channel, error) {
	d := t.d
	set := d.cfg.Load().Endpoints
	ext, peer, hasAt := strings.Cut(resource, "@")
	if !hasAt {
		// chan_sip's SIP/peer/exten, or a bare peer.
		peer, ext, _ = strings.Cut(resource, "/")
	}
	ep := set.Get(t.tech, peer)
	if ep == nil {
		// SIP/1000 for a pjsip endpoint (and the reverse) works too, as does
		// a registered AOR name.
		other := endpoint.TechSIP
		if t.tech == endpoint.TechSIP {
			other = endpoint.TechPJSIP
		}
		if ep = set.Get(other, peer); ep == nil {
			ep = set.ByAOR(peer)
		}
	}
	var tg target
	var err error
	name := peer
	if ep != nil {
		tg, err = d.endpointTarget(ctx, ep, ext)
		name = ep.Name
	} else if looksLikeHost(peer) {
		tg, err = d.hostTarget(peer, ext)
	} else {
		err = fmt.Errorf("%w: no endpoint %q", ErrUnavailable, peer)
	}
	if err == nil && ep != nil && ep.OutboundProxy != "" {
		tg, err = d.viaProxy(tg, ep.OutboundProxy)
	}
	if err != nil {
		return nil, err
	}
	if ep != nil && !d.admitCall(ep) {
		return nil, &channel.CauseError{Cause: channel.CauseUserBusy, Err: fmt.Errorf("chansip: %s reached its call-limit %d", ep.Key(), ep.CallLimit)}
	}
	l := &leg{d: d, ep: ep, log: d.log}
	ch := reg.New(string(t.tech), name, channel.Outbound, l)
	l.ch = ch
	l.log = ch.Log()
	l.target = tg
	l.invite = d.buildInvite(ep, tg, caller)
	if d.media.Load() != nil && (caller == nil && (ep == nil || !ep.DirectMedia) || caller != nil && channel.MediaOf(caller) != nil) {
		local := tg.local
		if local == "" {
			local = d.udpListener()
		}
		st, err := d.newStream(l, ep, local, tg.dest)
		if err != nil {
			ch.Gone(channel.CauseSwitchCongestion)
			return nil, &channel.CauseError{Cause: channel.CauseSwitchCongestion, Err: err}
		}
		var prefer codec.Codec
		if caller != nil {
			if cm, ok := channel.MediaOf(caller).(*media.Stream); ok {
				prefer = cm.Codec()
			}
		}
		offer, err := st.Offer(prefer)
		if err != nil {
			st.Close()
			ch.Gone(channel.CauseBearerCapNotAvail)
			return nil, &channel.CauseError{Cause: channel.CauseBearerCapNotAvail, Err: err}
		}
		l.media = st
		ch.SetMedia(st)
		closeWith(ch, st)
		l.invite.RemoveHeader("Content-Type")
		l.invite.SetBody(offer)
		l.invite.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if caller != nil {
		ch.SetConnected(caller.CallerID())
		ch.Inherit(caller)
	}
	ch.SetState(channel.StateDown)
	if ep != nil {
		d.countCall(ep, ch)
	}
	return ch, nil
}

func looksLikeHost(s string) bool {
	h := s
	if hh, _, err := net.SplitHostPort(s); err == nil {
		h = hh
	}
	return net.ParseIP(h) != nil || strings.Contains(h, ".")
}

func (d *Driver) endpointTarget(ctx context.Context, ep *endpoint.Endpoint, ext string) (target, error) {
	if !ep.Dynamic && ep.Host != "" && len(ep.StaticContacts) == 0 {
		hostport := ep.Host
		if ep.Port != 0 {
			hostport = net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
		}
		return d.hostTarget(hostport, ext)
	}
	aors := ep.AORs
	if len(aors) == 0 {
		aors = []string{ep.Name}
	}
	for _, aor := range aors {
		bs, err := d.store.Lookup(ctx, aor)
		if err != nil {
			return target{}, fmt.Errorf("chansip: lookup %s: %w", aor, err)
		}
		if len(bs) == 0 {
			continue
		}
		b := bs[0]
		var u sip.Uri
		if err := sip.ParseUri(b.Contact, &u); err != nil {
			return target{}, fmt.Errorf("chansip: contact %q: %w", b.Contact, err)
		}
		if ext != "" {
			u.User = ext
		}
		tg := target{uri: u, dest: registrar.Destination(b, ep), transport: strings.ToUpper(b.Transport)}
		if tg.transport == "" {
			tg.transport = "UDP"
		}
		// The socket (UDP) or connection (TCP, TLS, WS) the phone registered
		// on: Via and Contact name it, with its transport.
		tg.local = b.LocalAddr
		return tg, nil
	}
	for _, c := range ep.StaticContacts {
		var u sip.Uri
		if err := sip.ParseUri(c, &u); err == nil {
			if ext != "" {
				u.User = ext
			}
			port := u.Port
			if port == 0 {
				port = 5060
			}
			tr := "UDP"
			if u.UriParams != nil {
				if t, ok := u.UriParams.Get("transport"); ok && t != "" {
					tr = strings.ToUpper(t)
				}
			}
			ips, err := net.LookupHost(u.Host)
			if err != nil || len(ips) == 0 {
				continue
			}
			tg := target{uri: u, dest: net.JoinHostPort(ips[0], strconv.Itoa(port)), transport: tr}
			if tr == "UDP" {
				tg.local = d.udpListener()
			}
			return tg, nil
		}
	}
	return target{}, fmt.Errorf("%w: %s has no registered contact", ErrUnavailable, ep.Key())
}

func (d *Driver) hostTarget(hostport, ext string) (target, error) {
	host, port := hostport, 5060
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host = h
		port, _ = strconv.Atoi(p)
	}
	ips, err := net.LookupHost(host)
	if err != nil || len(ips) == 0 {
		return target{}, fmt.Errorf("%w: cannot resolve %q", ErrUnavailable, host)
	}
	u := sip.Uri{Scheme: "sip", User: ext, Host: host}
	if port != 5060 {
		u.Port = port
	}
	return target{uri: u, dest: net.JoinHostPort(ips[0], strconv.Itoa(port)), transport: "UDP", local: d.udpListener()}, nil
}

func (d *Driver) udpListener() string {
	for _, l := range d.srv.Listeners() {
		if l.Proto == "udp" {
			return l.Addr
		}
	}
	return ""
}

// buildInvite prepares the INVITE of an outbound leg; Call sends it.
func (d *Driver) buildInvite(ep *endpoint.Endpoint, tg target, caller *channel.Channel) *sip.Request {
	req := sip.NewRequest(sip.INVITE, tg.uri)
	req.SetTransport(tg.transport)
	req.SetDestination(tg.dest)
	host := ""
	if tg.local != "" {
		host, _ = d.srv.Advertised(tg.local, tg.dest)
	}

	var cid channel.CallerID
	if caller != nil {
		cid = caller.CallerID()
	}
	fromUser, fromHost := cid.Num, host
	if fromUser == "" {
		fromUser = "anonymous"
	}
	if ep != nil {
		if ep.FromUser != "" {
			fromUser = ep.FromUser
		}
		if ep.FromDomain != "" {
			fromHost = ep.FromDomain
		}
	}
	if fromHost == "" {
		fromHost = "gopbx.invalid"
	}
	from := &sip.FromHeader{DisplayName: cid.Name, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: tg.uri.Scheme, User: tg.uri.User, Host: tg.uri.Host, Port: tg.uri.Port}}
	req.AppendHeader(to)
	if host != "" {
		ct := d.contactFor(tg.local, tg.dest, tg.transport)
		req.AppendHeader(&ct)
	}
	maxf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxf)
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	if ua := d.cfg.Load().UserAgent; ua != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", ua))
	}
	if caller != nil {
		if sc, ok := caller.Driver().(channel.SDPCarrier); ok {
			if sdp := sc.RemoteSDP(); len(sdp) > 0 {
				req.SetBody(sdp)
				req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			}
		}
	}
	if req.Body() == nil {
		req.SetBody(nil)
	}
	return req
}

// Call implements channel.Caller: send the INVITE and report progress on
// the channel's events until it is answered or fails.
func (l *leg) Call(ctx context.Context, ch *channel.Channel) error {
	d := l.d
	callCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	ua := &sipgo.DialogUA{Client: d.srv.ClientFor(l.target.local, l.target.dest, l.target.transport), RewriteContact: true}
	if ct := l.invite.Contact(); ct != nil {
		ua.ContactHDR = *ct
	}
	out, err := ua.WriteInvite(callCtx, l.invite)
	if err != nil {
		cancel()
		return fmt.Errorf("chansip: send invite: %w", err)
	}
	l.out = out
	ch.SetCallID(callID(l.invite))
	user, pass := outboundCredentials(l.ep)
	d.srv.Go(func() {
		defer cancel()
		err := out.WaitAnswer(callCtx, sipgo.AnswerOptions{
			Username: user, Password: pass,
			OnResponse: func(res *sip.Response) error {
				switch {
				case res.StatusCode == 180 || res.StatusCode == 181 || res.StatusCode == 182:
					ch.SetState(channel.StateRinging)
					ch.Post(channel.Event{Kind: channel.EvRinging, Status: res.StatusCode})
				case res.StatusCode == 183:
					if len(res.Body()) > 0 {
						l.setRemoteSDP(res.Body())
						if l.media != nil {
							if err := l.media.AcceptAnswer(res.Body()); err != nil {
								ch.Log().Warn("early media sdp", "error", err)
							}
						}
					}
					ch.Post(channel.Event{Kind: channel.EvProgress, Status: 183, Body: res.Body()})
				}
				return nil
			},
		})
		if err == nil {
			l.mu.Lock()
			l.final, l.answered = true, true
			l.remote = out.InviteResponse.Body()
			l.mu.Unlock()
			if l.media != nil && len(l.remote) > 0 {
				if err := l.media.AcceptAnswer(l.remote); err != nil {
					ch.Log().Warn("sdp answer", "error", err)
				}
			}
			d.legs.Store(out.ID, l)
			ch.OnHangup(func() { d.legs.Delete(out.ID) })
			if err := out.Ack(context.Background()); err != nil {
				ch.Log().Warn("ack", "error", err)
			}
			ch.SetState(channel.StateUp)
			ch.Post(channel.Event{Kind: channel.EvAnswer, Status: 200, Body: out.InviteResponse.Body()})
			return
		}
		l.markFinal()
		if ch.HungUp() {
			return // we cancelled
		}
		var dr *sipgo.ErrDialogResponse
		cause, status := channel.CauseNoUserResponse, 408
		if errors.As(err, &dr) {
			status = dr.Res.StatusCode
			cause = channel.CauseFromSIP(status)
		}
		ch.Log().Info("outbound call failed", "status", status, "cause", int(cause), "error", err)
		ch.Post(channel.Event{Kind: channel.EvHangup, Cause: cause, Status: status})
		ch.Gone(cause)
	})
	return nil
}

var _ channel.Caller = (*leg)(nil)
