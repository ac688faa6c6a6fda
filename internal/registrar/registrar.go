package registrar

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/lazylog"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// Guard authenticates a request for an endpoint. When it returns false it
// has already answered the request (a challenge or a refusal). ep is nil when
// no endpoint owns the AOR and the policy is to challenge anyway
// (alwaysauthreject), so that probing cannot tell users apart.
type Guard interface {
	Authenticate(ctx context.Context, r *sipserver.Request, ep *endpoint.Endpoint) bool
}

// GuardFunc adapts a function to Guard.
type GuardFunc func(ctx context.Context, r *sipserver.Request, ep *endpoint.Endpoint) bool

// Authenticate calls f.
func (f GuardFunc) Authenticate(ctx context.Context, r *sipserver.Request, ep *endpoint.Endpoint) bool {
	return f(ctx, r, ep)
}

// Policy is the part of the configuration the registrar reads per request;
// a reload swaps it atomically.
type Policy struct {
	Endpoints *endpoint.Set
	// AlwaysAuthReject challenges REGISTERs for unknown AORs like known ones
	// instead of answering 404, so user names cannot be probed.
	AlwaysAuthReject bool
	// Defaults apply when the endpoint sets no limit.
	MinExpiry, MaxExpiry, DefaultExpiry time.Duration
}

// Registrar handles REGISTER.
type Registrar struct {
	store  location.Store
	guard  Guard
	log    *slog.Logger
	policy atomic.Pointer[Policy]
	now    func() time.Time
	node   string
}

// Option configures a Registrar.
type Option func(*Registrar)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(r *Registrar) { r.now = now } }

// WithNode names this cluster node in stored bindings.
func WithNode(n string) Option { return func(r *Registrar) { r.node = n } }

// New returns a registrar writing to store.
func New(store location.Store, guard Guard, p *Policy, log *slog.Logger, opts ...Option) *Registrar {
	r := &Registrar{store: store, guard: guard, log: log.With("component", "registrar"), now: time.Now}
	r.SetPolicy(p)
	for _, o := range opts {
		o(r)
	}
	return r
}

// SetPolicy installs a new policy (core reload).
func (rg *Registrar) SetPolicy(p *Policy) { rg.policy.Store(p) }

// Policy returns the current policy.
func (rg *Registrar) Policy() *Policy { return rg.policy.Load() }

// Store returns the location store.
func (rg *Registrar) Store() location.Store { return rg.store }

// regError carries the response for a REGISTER that cannot be applied.
type regError struct {
	code   int
	reason string
	hdrs   []sip.Header
}

func (e *regError) Error() string { return strconv.Itoa(e.code) + " " + e.reason }

func refuse(code int, reason string, hdrs ...sip.Header) error {
	return &regError{code: code, reason: reason, hdrs: hdrs}
}

// ServeSIP handles one REGISTER.
func (rg *Registrar) ServeSIP(ctx context.Context, r *sipserver.Request) {
	p := rg.policy.Load()
	to := r.To()
	aor := to.Address.User
	// Made only when something is logged: most REGISTERs log nothing.
	log := func() *slog.Logger { return lazylog.With(r.Log, slog.String("aor", aor)) }

	ep := p.Endpoints.ByAOR(aor)
	if ep == nil {
		ep = p.Endpoints.ByAuthUser(aor)
	}
	if ep != nil && ep.NAT.ForceRport {
		r.ForceRport()
	}
	if ep == nil {
		if p.AlwaysAuthReject && rg.guard != nil {
			// Challenge and refuse exactly as for a wrong password.
			if rg.guard.Authenticate(ctx, r, nil) {
				r.Respond(403, "Forbidden")
			}
			return
		}
		log().Warn("register for unknown aor")
		r.Respond(404, "Not Found")
		return
	}
	if rg.guard != nil && !rg.guard.Authenticate(ctx, r, ep) {
		return
	}
	if !ep.Dynamic {
		log().Warn("register refused: endpoint is not dynamic", "endpoint", ep.Key())
		r.Respond(403, "Forbidden")
		return
	}
	key := aor
	if len(ep.AORs) > 0 && !slices.Contains(ep.AORs, aor) {
		key = ep.AORs[0]
	}

	bindings, err := rg.apply(ctx, r, p, ep, key)
	if err != nil {
		var re *regError
		if errors.As(err, &re) {
			log().Warn("register refused", "status", re.code, "reason", re.reason)
			r.Respond(re.code, re.reason, re.hdrs...)
			return
		}
		if errors.Is(err, location.ErrOutOfOrder) {
			r.Respond(500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
			return
		}
		log().Error("register failed", "error", err)
		r.Respond(500, "Server Internal Error")
		return
	}
	now := rg.now()
	res := r.NewResponse(200, "OK")
	for _, b := range bindings {
		secs := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		if secs < 0 {
			secs = 0
		}
		var v strings.Builder
		v.Grow(len(b.Contact) + 20)
		v.WriteByte('<')
		v.WriteString(b.Contact)
		v.WriteString(">;expires=")
		var n [8]byte
		v.Write(strconv.AppendInt(n[:0], int64(secs), 10))
		res.AppendHeader(sip.NewHeader("Contact", v.String()))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http1123)))
	if err := r.Send(res); err != nil {
		log().Warn("send register response", "error", err)
		return
	}
	if r.Log.Enabled(ctx, slog.LevelDebug) {
		log().Debug("registered", "endpoint", ep.Key(), "contacts", len(bindings), "received", r.Source())
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

type contactReq struct {
	uri     string
	expires time.Duration
	q       float64
	inst    string
	regID   int
}

// apply computes and commits the REGISTER's changes.
func (rg *Registrar) apply(ctx context.Context, r *sipserver.Request, p *Policy, ep *endpoint.Endpoint, aor string) ([]location.Binding, error) {
	minE, maxE, defE := p.MinExpiry, p.MaxExpiry, p.DefaultExpiry
	if ep.MinExpiry > 0 {
		minE = ep.MinExpiry
	}
	if ep.MaxExpiry > 0 {
		maxE = ep.MaxExpiry
	}
	if ep.DefaultExpiry > 0 {
		defE = ep.DefaultExpiry
	}

	hdrExpires := time.Duration(-1)
	if h := r.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			return nil, refuse(400, "Malformed Expires Header")
		}
		hdrExpires = time.Duration(n) * time.Second
	}

	var contactsBuf [2]contactReq // a phone registers one contact, mostly
	contacts := contactsBuf[:0]
	star := false
	for _, h := range r.Headers() {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		// The parser marks "*"; a contact without a host is the only
		// other candidate worth formatting to look.
		if c.Address.Wildcard || (c.Address.Host == "" && strings.TrimSpace(c.Value()) == "*") {
			star = true
			continue
		}
		cr := contactReq{uri: c.Address.String(), expires: hdrExpires, q: location.NoQ}
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, refuse(400, "Malformed Contact Expires Parameter")
			}
			cr.expires = time.Duration(n) * time.Second
		}
		if v, ok := c.Params.Get("q"); ok {
			q, err := strconv.ParseFloat(v, 64)
			if err != nil || q < 0 || q > 1 {
				return nil, refuse(400, "Malformed Contact q Parameter")
			}
			cr.q = q
		}
		if v, ok := c.Params.Get("+sip.instance"); ok {
			cr.inst = strings.Trim(v, "\"")
		}
		if v, ok := c.Params.Get("reg-id"); ok {
			cr.regID, _ = strconv.Atoi(v)
		}
		if cr.expires < 0 {
			cr.expires = defE
		}
		if cr.expires > 0 && cr.expires < minE {
			return nil, refuse(423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(minE/time.Second))))
		}
		if maxE > 0 && cr.expires > maxE {
			cr.expires = maxE
		}
		contacts = append(contacts, cr)
	}
	if star {
		// RFC 3261 §10.3 step 6: "*" only alone and with Expires: 0.
		if len(contacts) > 0 || hdrExpires != 0 {
			return nil, refuse(400, "Invalid Wildcard Contact")
		}
	}

	callID := r.CallID().Value()
	cseq := r.CSeq().SeqNo
	ua := ""
	if h := r.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	path := ""
	if hs := r.GetHeaders("Path"); len(hs) > 0 {
		var ps []string
		for _, h := range hs {
			ps = append(ps, h.Value())
		}
		path = strings.Join(ps, ",")
	}
	now := rg.now()
	transport := sip.NetworkToLower(r.Transport()) // no allocation for UDP, TCP, TLS, WS, WSS
	local := r.LocalAddr()

	if len(contacts) == 0 && !star {
		// A query: return the current bindings.
		return rg.store.Lookup(ctx, aor)
	}

	return rg.store.Apply(ctx, aor, func(cur []location.Binding) ([]location.Binding, []string, error) {
		var put []location.Binding
		var del []string
		if star {
			for _, b := range cur {
				if b.CallID == callID && cseq <= b.CSeq {
					return nil, nil, location.ErrOutOfOrder
				}
				del = append(del, b.Contact)
			}
			return nil, del, nil
		}
		// mentioned[i]: cur[i] is named by this REGISTER (or removed by it).
		// A phone has one or a few bindings: a scan of cur costs less
		// than building a map of them on every refresh.
		var buf [8]bool
		mentioned := buf[:0]
		if len(cur) > len(buf) {
			mentioned = make([]bool, len(cur))
		} else {
			mentioned = buf[:len(cur)]
		}
		find := func(uri string) int {
			for i := range cur {
				if !mentioned[i] && cur[i].Contact == uri {
					return i
				}
			}
			return -1
		}
		for _, c := range contacts {
			i := find(c.uri)
			if c.expires == 0 {
				if i >= 0 {
					if old := &cur[i]; old.CallID == callID && cseq <= old.CSeq {
						return nil, nil, location.ErrOutOfOrder
					}
					del = append(del, c.uri)
					mentioned[i] = true
				}
				continue
			}
			put = append(put, location.Binding{
				AOR: aor, Contact: c.uri, Received: r.Source(), Transport: transport,
				LocalAddr: local, Path: path, CallID: callID, CSeq: cseq,
				Expires: now.Add(c.expires), Q: c.q, InstanceID: c.inst, RegID: c.regID,
				UserAgent: ua, Updated: now, Node: rg.node,
			})
			if i >= 0 {
				mentioned[i] = true
			}
		}
		// The bindings this REGISTER did not mention.
		if ep.MaxContacts > 0 {
			unmentioned := 0
			for _, m := range mentioned {
				if !m {
					unmentioned++
				}
			}
			total := unmentioned + len(put)
			if total > ep.MaxContacts {
				if !ep.RemoveExisting {
					return nil, nil, refuse(403, "Forbidden (max_contacts exceeded)")
				}
				// remove_existing: drop the oldest bindings not in this REGISTER.
				olds := make([]location.Binding, 0, unmentioned)
				for i, b := range cur {
					if !mentioned[i] {
						olds = append(olds, b)
					}
				}
				sortByUpdated(olds)
				for _, b := range olds {
					if total <= ep.MaxContacts {
						break
					}
					del = append(del, b.Contact)
					total--
				}
				if total > ep.MaxContacts {
					return nil, nil, refuse(403, "Forbidden (max_contacts exceeded)")
				}
			}
		}
		return put, del, nil
	})
}

func sortByUpdated(bs []location.Binding) {
	slices.SortFunc(bs, func(a, b location.Binding) int { return a.Updated.Compare(b.Updated) })
}

// ExpireLoop removes expired bindings every interval until ctx ends.
func (rg *Registrar) ExpireLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			gone, err := rg.store.Expire(ctx, rg.now())
			if err != nil {
				if ctx.Err() == nil {
					rg.log.Error("expire bindings", "error", err)
				}
				continue
			}
			for _, b := range gone {
				rg.log.Info("contact expired", "aor", b.AOR, "contact", b.Contact)
			}
		}
	}
}

var _ sipserver.Handler = (*Registrar)(nil)
