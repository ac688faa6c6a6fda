package pbx

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/security"
	"github.com/gopbx/gopbx/internal/sipserver"
	"github.com/gopbx/gopbx/internal/sipserver/sipauth"
)

// guard is the registrar's and chansip's digest gate. It answers every
// failure itself: a challenge, a stale re-challenge, or 403. Each failure
// feeds the security shield (bans after repeated failures), and the guard
// is also the SIP server's Gate: it drops banned sources and scanners and
// rate-limits new INVITEs per source.
type guard struct {
	log    *slog.Logger
	secret []byte // kept across reloads so outstanding nonces stay valid
	auth   atomic.Pointer[sipauth.Authenticator]
	shield *security.Shield
	swept  atomic.Int64 // unix nanos of the last shield sweep
	// overloaded counts new INVITEs refused in Admit for overload
	// (overload_wait, or overload_delay for those the read loop left).
	overloaded atomic.Int64
}

func newGuard(log *slog.Logger, cfg *pbxconf.PBX) (*guard, error) {
	g := &guard{log: log.With("component", "auth"), secret: make([]byte, 32)}
	g.shield = security.New(security.Defaults(), log.With("component", "security"), nil)
	rand.Read(g.secret)
	if err := g.update(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *guard) update(cfg *pbxconf.PBX) error {
	sec, warns, err := security.Load(cfg.Dir)
	logDiags(g.log, warns)
	if err != nil {
		return fmt.Errorf("pbx: %w", err)
	}
	a, err := sipauth.New(sipauth.Config{
		Realm:  cfg.Realm,
		Secret: g.secret,
		Lookup: sipauth.LookupFunc(knowsNobody),
	})
	if err != nil {
		return fmt.Errorf("pbx: authentication: %w", err)
	}
	g.auth.Store(a)
	g.shield.SetConfig(sec)
	return nil
}

// knowsNobody is the authenticator's Lookup: Authenticate always hands
// Verify the credentials of the endpoint the request is for
// (Options.Credentials), so that a REGISTER for 1000 must prove 1000's
// password, not any user's.
func knowsNobody(context.Context, string) ([]endpoint.Credential, bool) { return nil, false }

// Authenticate implements registrar.Guard.
func (g *guard) Authenticate(ctx context.Context, r *sipserver.Request, ep *endpoint.Endpoint) bool {
	if ep != nil && len(ep.Credentials) == 0 {
		return true // the endpoint has no auth= / secret=: Asterisk accepts it as is
	}
	a := g.auth.Load()
	// res_pjsip challenges every request with 401; chan_sip challenged
	// INVITE and other non-REGISTER requests with 407. Each endpoint gets
	// the flavour of the file that declared it.
	opts := sipauth.Options{Kind: sipauth.KindWWW}
	if ep != nil && ep.Tech == endpoint.TechSIP {
		opts.Kind = sipauth.KindAuto
	}
	opts.Credentials = []endpoint.Credential{} // no endpoint: nobody's password will do
	if ep != nil && len(ep.Credentials) > 0 {
		opts.Algorithms = sipauth.ChallengeAlgorithms(ep.Credentials)
		opts.Realm = ep.Credentials[0].Realm
		opts.Credentials = ep.Credentials
	}
	res, err := a.Verify(ctx, r.Request, opts)
	if err == nil {
		return true
	}
	switch {
	case sipauth.IsFailed(err):
		// Wrong password and unknown user alike (no enumeration): both
		// count towards a ban of the source.
		g.log.Debug("authentication failed", "src", r.Source(), "username", res.Username, "error", err)
		g.shield.Fail(event(security.EventAuthFailed, r, res.Username))
		r.Respond(403, "Forbidden")
		return false
	case sipauth.IsStale(err):
		opts.Stale = true
	default:
		if !errors.Is(err, sipauth.ErrNoCredentials) {
			g.log.Debug("invalid credentials", "src", r.Source(), "username", res.Username, "error", err)
			g.shield.Fail(event(security.EventInvalidAcct, r, res.Username))
		}
	}
	if err := r.Send(a.Challenge(r.Request, opts)); err != nil {
		g.log.Warn("send challenge", "error", err)
	}
	return false
}

func event(kind string, r *sipserver.Request, username string) security.Event {
	return security.Event{Kind: kind, Src: r.Source(), Username: username, Method: string(r.Method), CallID: callIDOf(r)}
}

func callIDOf(r *sipserver.Request) string {
	if h := r.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// Blocked implements sipserver.Gate: banned sources are dropped unread.
func (g *guard) Blocked(src net.Addr) bool {
	var ip net.IP
	switch a := src.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		if src == nil {
			return false
		}
		addr, ok := security.ParseAddr(src.String())
		return ok && g.shield.Blocked(addr)
	}
	addr, ok := netip.AddrFromSlice(ip)
	return ok && g.shield.Blocked(addr)
}

// sweepEvery is how often Admit prunes the shield's tables of expired
// entries (they are bounded in any case).
const sweepEvery = 10 * time.Second

// Admit implements sipserver.Gate: scanners are dropped silently, and a
// source sending new INVITEs faster than invite_rate gets a stateless 503
// with Retry-After.
func (g *guard) Admit(r *sipserver.Request) bool {
	if now, last := time.Now().UnixNano(), g.swept.Load(); now-last > int64(sweepEvery) && g.swept.CompareAndSwap(last, now) {
		g.shield.Sweep()
	}
	if r.IsAck() {
		return true
	}
	addr, ok := security.ParseAddr(r.Source())
	if !ok {
		return true
	}
	if g.shield.Blocked(addr) { // banned after its packet was read
		return false
	}
	cfg := g.shield.Config()
	if cfg.DropScanners {
		if h := r.GetHeader("User-Agent"); h != nil && security.IsScanner(h.Value()) {
			g.shield.Log(event(security.EventScanner, r, fromUser(r)))
			return false
		}
	}
	if r.Method == sip.INVITE && !hasToTag(r) {
		// Overload: a new call that waited this long for the CPUs is
		// stale (its caller has retransmitted it) and taking it would
		// delay everything after it further; refusing costs a fraction
		// of a call (RFC 7339's motive, answered the way Asterisk answers
		// maxload: 503). Sources in ban_ignore are not exempt: this
		// protects the server, not from the source.
		if w, d := cfg.OverloadWait, cfg.OverloadDelay; (w > 0 && r.Waited() > w) || (d > 0 && r.QueueDelay() > d) {
			g.overloaded.Add(1)
			g.shield.Log(event(security.EventOverloaded, r, fromUser(r)))
			respondStateless(r, 503, "Service Unavailable", sip.NewHeader("Retry-After", "2"))
			return false
		}
		if ok, after := g.shield.AllowInvite(addr); !ok {
			g.shield.Log(event(security.EventRateLimited, r, fromUser(r)))
			respondStateless(r, 503, "Service Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(max(after, 1))))
			return false
		}
	}
	return true
}

// respondStateless answers outside the INVITE server transaction, which it
// then ends: a flood gets one 503 per request, never retransmissions that
// would multiply the traffic towards a (possibly spoofed) source.
func respondStateless(r *sipserver.Request, code int, reason string, hdrs ...sip.Header) {
	tx := r.DetachTx()
	if err := r.Respond(code, reason, hdrs...); err != nil {
		r.Log.Debug("stateless response", "error", err)
	}
	if tx != nil {
		tx.Terminate()
	}
}

// OverloadDelay implements sipserver.OverloadGate: [security]
// overload_delay, applied in the read loop as well as in Admit.
func (g *guard) OverloadDelay() time.Duration { return g.shield.Config().OverloadDelay }

// Overloaded implements sipserver.OverloadGate: the refusal is logged like
// Admit's; a scanner gets silence, as Admit would give it.
func (g *guard) Overloaded(c sipserver.RefusedCall) bool {
	ev := security.Event{Kind: security.EventOverloaded, Src: c.Src, Username: c.FromUser, Method: "INVITE", CallID: c.CallID}
	if c.UserAgent != "" && security.IsScanner(c.UserAgent) && g.shield.Config().DropScanners {
		ev.Kind = security.EventScanner
		g.shield.Log(ev)
		return false
	}
	g.shield.Log(ev)
	return true
}

func hasToTag(r *sipserver.Request) bool {
	to := r.To()
	return to != nil && to.Params.Has("tag")
}

func fromUser(r *sipserver.Request) string {
	if f := r.From(); f != nil {
		return f.Address.User
	}
	return ""
}

var (
	_ registrar.Guard = (*guard)(nil)
	_ sipserver.Gate  = (*guard)(nil)

	_ sipserver.OverloadGate = (*guard)(nil)
)
