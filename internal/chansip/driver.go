package chansip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// Config is what the driver reads per call; a reload swaps it.
type Config struct {
	Endpoints *endpoint.Set
	// AllowGuest routes INVITEs from unidentified callers into
	// GuestContext instead of challenging them (sip.conf allowguest=yes).
	AllowGuest   bool
	GuestContext string
	UserAgent    string
	// MaxCalls refuses new calls with 503 and Retry-After once this many
	// are in progress (asterisk.conf [options] maxcalls); 0: no limit.
	MaxCalls int
}

// Dialplan answers whether an extension exists, before a channel is made,
// so the caller gets 404 or 484 as from Asterisk.
type Dialplan interface {
	// Exists reports whether exten matches in context (priority 1), and
	// canMatch whether it is the beginning of a longer match.
	Exists(context, exten, callerID string) (exists, canMatch bool)
}

// Runner runs the dialplan on an inbound channel until it is done.
type Runner func(ctx context.Context, ch *channel.Channel) error

// Guard authenticates a request for an endpoint and answers it when it
// fails (challenge, 403); see registrar.Guard.
type Guard interface {
	Authenticate(ctx context.Context, r *sipserver.Request, ep *endpoint.Endpoint) bool
}

// Driver is the SIP technology ("PJSIP" and "SIP" share it).
type Driver struct {
	srv   *sipserver.Server
	reg   *channel.Registry
	store location.Store
	guard Guard
	dp    Dialplan
	run   Runner
	log   *slog.Logger
	cfg   atomic.Pointer[Config]
	ua    *sipgo.DialogUA
	legs  sync.Map // dialog ID → *leg
	perEP sync.Map // endpoint key → *atomic.Int64, calls in progress (call-limit)
	calls atomic.Int64
	// shutdown is closed by Shutdown: new calls are refused from then on.
	shutdown     chan struct{}
	shutdownOnce sync.Once
	media        atomic.Pointer[media.Manager]
	onHold       func(ch *channel.Channel, held bool)
}

// New creates the driver and registers its technologies and SIP handlers.
func New(srv *sipserver.Server, reg *channel.Registry, store location.Store, guard Guard, dp Dialplan, run Runner, cfg *Config, log *slog.Logger) *Driver {
	d := &Driver{srv: srv, reg: reg, store: store, guard: guard, dp: dp, run: run, log: log.With("component", "chansip"), shutdown: make(chan struct{})}
	d.cfg.Store(cfg)
	d.ua = &sipgo.DialogUA{Client: srv.Client(), RewriteContact: true}
	for _, t := range []endpoint.Tech{endpoint.TechPJSIP, endpoint.TechSIP} {
		reg.RegisterTech(string(t), &tech{d: d, tech: t})
	}
	srv.Handle(sip.INVITE, sipserver.HandlerFunc(d.onInvite))
	srv.Handle(sip.ACK, sipserver.HandlerFunc(d.onAck))
	srv.Handle(sip.BYE, sipserver.HandlerFunc(d.onBye))
	srv.Handle(sip.CANCEL, sipserver.HandlerFunc(d.onCancel))
	srv.Handle(sip.INFO, sipserver.HandlerFunc(d.onInDialog))
	srv.Handle(sip.UPDATE, sipserver.HandlerFunc(d.onInDialog))
	return d
}

// SetConfig installs a new configuration (core reload).
func (d *Driver) SetConfig(c *Config) { d.cfg.Store(c) }

// ActiveCalls is the number of inbound calls in progress.
func (d *Driver) ActiveCalls() int64 { return d.calls.Load() }

// contactFor is our Contact for a dialog on the socket a request used.
func (d *Driver) contactFor(local, remote, transport string) sip.ContactHeader {
	host, port := d.srv.Advertised(local, remote)
	c := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "gopbx", Host: host, Port: port}}
	if transport != "" && !strings.EqualFold(transport, "udp") {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(transport))
	}
	return c
}

// identify finds the endpoint an INVITE comes from: by source address
// (trunks: pjsip identify, sip.conf host= with insecure=port), then by the
// auth username it answers a challenge with, then by the From user.
func (d *Driver) identify(r *sipserver.Request) *endpoint.Endpoint {
	set := d.cfg.Load().Endpoints
	if host, _, err := net.SplitHostPort(r.Source()); err == nil {
		if ip, err := netipParse(host); err == nil {
			if ep := set.ByAddr(ip); ep != nil {
				return ep
			}
		}
	}
	// chan_sip matches type=peer sections by address only: a stranger
	// naming a trunk (insecure=invite) in From must not become it.
	byName := func(ep *endpoint.Endpoint) bool { return ep != nil && ep.Type != "peer" }
	for _, name := range []string{"Proxy-Authorization", "Authorization"} {
		if h := r.GetHeader(name); h != nil {
			if u := authUsername(h.Value()); u != "" {
				if ep := set.ByAuthUser(u); byName(ep) {
					return ep
				}
			}
		}
	}
	if f := r.From(); f != nil && f.Address.User != "" {
		if ep := set.ByAuthUser(f.Address.User); byName(ep) {
			return ep
		}
		if ep := set.ByAOR(f.Address.User); byName(ep) {
			return ep
		}
	}
	return nil
}

func authUsername(v string) string {
	i := strings.Index(strings.ToLower(v), "username=")
	if i < 0 {
		return ""
	}
	rest := strings.TrimSpace(v[i+len("username="):])
	if strings.HasPrefix(rest, `"`) {
		if j := strings.Index(rest[1:], `"`); j >= 0 {
			return rest[1 : 1+j]
		}
		return ""
	}
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		return rest[:j]
	}
	return rest
}

func hasInsecure(ep *endpoint.Endpoint, what string) bool {
	for _, s := range ep.Insecure {
		if s == what {
			return true
		}
	}
	return false
}

// onInvite handles initial INVITEs (and re-INVITEs, which carry a To tag).
func (d *Driver) onInvite(ctx context.Context, r *sipserver.Request) {
	if r.To() != nil && r.To().Params.Has("tag") {
		d.onReinvite(ctx, r)
		return
	}
	if d.shuttingDown() {
		r.Respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return
	}
	cfg := d.cfg.Load()
	// Reserve the slot now: counting only once the channel exists let
	// concurrent INVITEs all pass the check (55 calls up with maxcalls=50).
	if n := d.calls.Add(1); cfg.MaxCalls > 0 && n > int64(cfg.MaxCalls) {
		d.calls.Add(-1)
		r.Log.Warn("invite refused: maxcalls reached", "maxcalls", cfg.MaxCalls)
		r.Respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return
	}
	slotOwned := true // until the dialplan goroutine takes the slot over
	defer func() {
		if slotOwned {
			d.calls.Add(-1)
		}
	}()
	ep := d.identify(r)
	if ep != nil && ep.NAT.ForceRport {
		r.ForceRport()
	}
	context_ := ""
	switch {
	case ep == nil && cfg.AllowGuest:
		context_ = cfg.GuestContext
	case ep == nil:
		// allowguest=no: unknown callers are challenged like everyone and
		// then refused, never routed (toll-fraud guard).
		if d.guard.Authenticate(ctx, r, nil) {
			r.Respond(403, "Forbidden")
		}
		d.log.Warn("security: invite from unknown caller refused", "src", r.Source(), "from", fromUser(r.Request))
		return
	default:
		if !hasInsecure(ep, "invite") && !d.guard.Authenticate(ctx, r, ep) {
			return
		}
		context_ = ep.Context
	}

	exten := r.Recipient.User
	if u, err := url.PathUnescape(exten); err == nil {
		exten = u // %31%30%30 dials 100, as Asterisk decodes the Request-URI user
	}
	offer, err := checkOffer(r.Request)
	if err != nil {
		r.Log.Warn("invite refused: unusable offer", "error", err)
		r.Respond(488, "Not Acceptable Here")
		return
	}
	if ep != nil && !d.admitCall(ep) {
		r.Log.Warn("invite refused: call-limit reached", "endpoint", ep.Key(), "limit", ep.CallLimit)
		r.Respond(480, "Temporarily Unavailable")
		return
	}
	cid := callerIDOf(r.Request, ep)
	exists, canMatch := d.dp.Exists(context_, exten, cid.Num)
	if !exists {
		if canMatch {
			r.Respond(484, "Address Incomplete")
		} else {
			r.Respond(404, "Not Found")
		}
		return
	}
	if r.Contact() == nil {
		r.Respond(400, "Missing Contact Header")
		return
	}
	l := &leg{d: d, ep: ep, req: r.Request, remoteSDP: r.Body(), log: r.Log}
	if d.anchors(ep) {
		st, err := d.newStream(l, ep, r.LocalAddr(), r.Source())
		if err != nil {
			r.Log.Error("invite refused: no media port", "error", err)
			r.Respond(503, "Service Unavailable")
			return
		}
		if len(r.Body()) > 0 {
			err := media.ErrNoAudio
			if offer != nil {
				_, err = st.AcceptOfferDesc(offer)
			}
			if err != nil {
				st.Close()
				r.Log.Warn("invite refused: no common codec", "error", err)
				r.Respond(488, "Not Acceptable Here")
				return
			}
		} else if _, err := st.Offer(nil); err != nil {
			st.Close()
			r.Respond(488, "Not Acceptable Here")
			return
		}
		l.media = st
	}
	if err := r.Trying(); err != nil {
		if l.media != nil {
			l.media.Close()
		}
		return
	}

	rtx := &releasableTx{tx: r.Tx}
	ua := d.uaFor(r.LocalAddr(), r.Source(), r.Transport())
	ua.InviteOwned = r.OwnsRequest() // no clone of the INVITE for its To tag
	ds, err := ua.ReadInvite(r.Request, rtx)
	if err != nil {
		if l.media != nil {
			l.media.Close()
		}
		r.Log.Warn("invite refused", "error", err)
		r.Respond(400, "Bad Request")
		return
	}
	l.in, l.inTx, l.released = ds, rtx, make(chan struct{})
	l.req = ds.InviteRequest // sipgo's copy: the original need not outlive its transaction
	r.SetResponded()         // from here the dialog session answers the INVITE

	tech := string(endpoint.TechPJSIP)
	res := "anonymous"
	if ep != nil {
		tech, res = string(ep.Tech), ep.Name
	}
	ch := d.reg.New(tech, res, channel.Inbound, l)
	l.ch = ch
	if l.media != nil {
		ch.SetMedia(l.media)
		closeWith(ch, l.media)
	}
	ch.SetCallID(callID(r.Request))
	ch.SetState(channel.StateRing)
	ch.SetCallerID(cid)
	if ep != nil {
		ch.SetAccountCode(ep.AccountCode)
		ch.SetLanguage(ep.Language)
	}
	ch.SetLocation(channel.Location{Context: context_, Exten: exten, Priority: 1})
	if ep != nil {
		d.countCall(ep, ch)
	}
	d.legs.Store(ds.ID, l)

	// A CANCEL from the caller ends the channel (the transaction answers
	// 200 and 487). A dialog state callback, run where the dialog ends,
	// rather than context.AfterFunc on the dialog's context: that cost a
	// Done channel and a parent's children-map entry, 1.1 KB per held call.
	ds.OnState(func(s sip.DialogState) {
		if s == sip.DialogStateEnded && ch.State() != channel.StateUp && !ch.HungUp() {
			l.markFinal()
			ch.Gone(channel.CauseNormalClearing)
			ch.SetVar("CANCELLED", "1")
		}
	})

	if lg := ch.Log(); lg.Enabled(ctx, slog.LevelDebug) { // its arguments cost allocations per call
		lg.Debug("new inbound call", "from", cid.String(), "exten", exten, "context", context_, "src", r.Source())
	}

	// The dialplan runs on a goroutine of its own, and this handler
	// (the INVITE's own goroutine, the fast path's or sipgo's) returns once the INVITE is
	// answered and ACKed, or the dialplan has ended. A held call then parks
	// only the dialplan's frames (see app.Pending: a 4 KB stack), not
	// sipgo's and this handler's under them (a 16 KB stack).
	slotOwned = false
	go d.runCall(ch, l, ds.ID)
	<-l.released
}

// runCall runs the dialplan of an inbound call and ends the call. Its
// frame is at the bottom of every held call's stack: keep it small (see
// app.Pending).
func (d *Driver) runCall(ch *channel.Channel, l *leg, id string) {
	defer d.endCall(ch, l, id)
	if err := d.run(ch.Context(), ch); err != nil && !errors.Is(err, context.Canceled) {
		logRunError(ch, err)
	}
}

func logRunError(ch *channel.Channel, err error) {
	ch.Log().Warn("dialplan ended with error", "error", err)
}

func (d *Driver) endCall(ch *channel.Channel, l *leg, id string) {
	ch.Hangup(0) // the cause recorded by the dialplan, else normal clearing
	l.wait()
	d.legs.Delete(id)
	l.release()
	d.calls.Add(-1) // the maxcalls slot lasts as long as the call
}

func (d *Driver) uaFor(local, remote, transport string) *sipgo.DialogUA {
	return &sipgo.DialogUA{Client: d.srv.ClientFor(local, remote, transport), ContactHDR: d.contactFor(local, remote, transport), RewriteContact: true}
}

func fromUser(req *sip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}
	return ""
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// callerIDOf is the caller's identity: the endpoint's callerid= when set,
// else P-Asserted-Identity from a trusted endpoint, else the From header.
func callerIDOf(req *sip.Request, ep *endpoint.Endpoint) channel.CallerID {
	var cid channel.CallerID
	if f := req.From(); f != nil {
		cid = channel.CallerID{Name: f.DisplayName, Num: f.Address.User}
	}
	if ep != nil && config.IsTrue(ep.Extra["trust_id_inbound"]) {
		if h := req.GetHeader("P-Asserted-Identity"); h != nil {
			pai := channel.ParseCallerID(h.Value())
			var u sip.Uri
			if err := sip.ParseUri(strings.Trim(pai.Num, "<>"), &u); err == nil && u.User != "" {
				pai.Num = u.User
			}
			if pai.Num != "" {
				cid = pai
			}
		}
	}
	if ep != nil && ep.CallerID != "" {
		o := channel.ParseCallerID(ep.CallerID)
		if o.Name != "" {
			cid.Name = o.Name
		}
		if o.Num != "" {
			cid.Num = o.Num
		}
	}
	return cid
}

// findLeg finds the leg an in-dialog request belongs to.
func (d *Driver) findLeg(req *sip.Request) *leg {
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if v, ok := d.legs.Load(id); ok {
			return v.(*leg)
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if v, ok := d.legs.Load(id); ok {
			return v.(*leg)
		}
	}
	return nil
}

func (d *Driver) onAck(ctx context.Context, r *sipserver.Request) {
	if l := d.findLeg(r.Request); l != nil && l.in != nil {
		if l.media != nil && len(r.Body()) > 0 {
			if err := l.media.AcceptAnswer(r.Body()); err != nil {
				l.log.Warn("sdp answer in ACK", "error", err)
			}
		}
		l.in.ReadAck(r.Request, r.ServerTx())
	}
}

func (d *Driver) onBye(ctx context.Context, r *sipserver.Request) {
	l := d.findLeg(r.Request)
	if l == nil {
		r.Respond(481, "Call/Transaction Does Not Exist")
		return
	}
	var err error
	if l.in != nil {
		err = l.in.ReadBye(r.Request, r.ServerTx())
	} else {
		err = l.out.ReadBye(r.Request, r.ServerTx())
	}
	if err != nil {
		r.Respond(481, "Call/Transaction Does Not Exist")
		return
	}
	r.SetResponded()
	l.ch.Log().Debug("remote hangup (BYE)") // per call: the CDR and AMI carry it; INFO stays for the server's own events
	l.markBye()
	l.ch.Gone(channel.CauseNormalClearing)
}

// onCancel only sees CANCELs sipgo could not match to an INVITE.
func (d *Driver) onCancel(ctx context.Context, r *sipserver.Request) {
	r.Respond(481, "Call/Transaction Does Not Exist")
}

// onInDialog answers INFO and UPDATE inside a known dialog with 200 (DTMF
// relay and session refresh come with the media work) and 481 otherwise.
func (d *Driver) onInDialog(ctx context.Context, r *sipserver.Request) {
	l := d.findLeg(r.Request)
	if l == nil {
		r.Respond(481, "Call/Transaction Does Not Exist")
		return
	}
	if r.Method == sip.INFO && l.media != nil {
		if digit, dur, ok := infoDigit(r.Request); ok {
			l.media.InjectDigit(digit, dur)
		}
	}
	r.Respond(200, "OK")
}

// onReinvite carries a new offer (hold, unhold, codec change) to the other
// leg and returns its answer.
func (d *Driver) onReinvite(ctx context.Context, r *sipserver.Request) {
	l := d.findLeg(r.Request)
	if l == nil {
		r.Respond(481, "Call/Transaction Does Not Exist")
		return
	}
	if l.media != nil {
		// Anchored: the new offer is ours to answer; the other leg keeps
		// its session (a held party hears music on hold from us).
		answer := l.media.LocalSDP()
		if len(r.Body()) > 0 {
			a, err := l.media.AcceptOffer(r.Body())
			if err != nil {
				l.ch.Log().Warn("re-invite refused", "error", err)
				r.Respond(488, "Not Acceptable Here")
				return
			}
			answer = a
		}
		res := r.NewResponse(200, "OK")
		ct := d.contactFor(r.LocalAddr(), r.Source(), r.Transport())
		res.AppendHeader(&ct)
		res.SetBody(answer)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		addSessionTimer(r.Request, res)
		r.Send(res)
		l.holdChanged()
		return
	}
	peer := l.ch.Bridged()
	var answer []byte
	if peer != nil {
		if ri, ok := peer.Driver().(channel.Reinviter); ok && len(r.Body()) > 0 {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			a, err := ri.Reinvite(ctx, r.Body())
			if err != nil {
				l.ch.Log().Warn("re-invite to the other leg failed", "error", err)
				r.Respond(488, "Not Acceptable Here")
				return
			}
			answer = a
		}
	}
	if answer == nil {
		answer = l.localSDP()
	}
	if len(r.Body()) > 0 {
		l.setRemoteSDP(r.Body())
	}
	res := r.NewResponse(200, "OK")
	ct := d.contactFor(r.LocalAddr(), r.Source(), r.Transport())
	res.AppendHeader(&ct)
	if answer != nil {
		res.SetBody(answer)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	addSessionTimer(r.Request, res)
	r.Send(res)
}

// addSessionTimer answers an RFC 4028 request: we accept the caller's
// interval and let the caller refresh.
func addSessionTimer(req *sip.Request, res *sip.Response) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		return
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		res.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(n)+";refresher=uac"))
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
}

// shuttingDown reports whether Shutdown has been called.
func (d *Driver) shuttingDown() bool {
	select {
	case <-d.shutdown:
		return true
	default:
		return false
	}
}

// Shutdown refuses new calls and hangs up the ones in progress.
func (d *Driver) Shutdown(ctx context.Context) {
	d.shutdownOnce.Do(func() { close(d.shutdown) })
	for _, ch := range d.reg.Channels() {
		ch.Hangup(channel.CauseNormalClearing)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for d.calls.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

var errNoContact = errors.New("chansip: no registered contact")

func wrap(format string, args ...any) error { return fmt.Errorf("chansip: "+format, args...) }

// checkOffer refuses an INVITE whose session description cannot be used:
// an SDP body that does not parse or offers no media (RFC 3264 §5).
func checkOffer(req *sip.Request) (*media.Desc, error) {
	body := req.Body()
	if len(body) == 0 {
		return nil, nil // offerless INVITE: the offer comes in our 200
	}
	if ct := req.GetHeader("Content-Type"); ct != nil && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp") {
		return nil, nil // validate already answered 415 for other types
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("chansip: sdp: %w", err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, errors.New("chansip: sdp offers no media")
	}
	// The audio stream for an anchored call, parsed once: nil when there
	// is none (a direct-media call passes any media through; an anchored
	// one is refused with 488 when it comes to AcceptOffer).
	d, _ := media.DescOf(&sd)
	return d, nil
}

func (d *Driver) epCounter(ep *endpoint.Endpoint) *atomic.Int64 {
	key := ep.Key()
	if v, ok := d.perEP.Load(key); ok {
		return v.(*atomic.Int64) // LoadOrStore would allocate a counter per call
	}
	v, _ := d.perEP.LoadOrStore(key, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// admitCall checks the endpoint's call-limit (sip.conf call-limit, pjsip
// device_state_busy_at is informational only) before a new call.
func (d *Driver) admitCall(ep *endpoint.Endpoint) bool {
	return ep.CallLimit <= 0 || d.epCounter(ep).Load() < int64(ep.CallLimit)
}

// countCall counts ch against its endpoint's call-limit until it hangs up.
func (d *Driver) countCall(ep *endpoint.Endpoint, ch *channel.Channel) {
	n := d.epCounter(ep)
	n.Add(1)
	ch.OnHangup(func() { n.Add(-1) })
}
