package trunk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// State is a registration's state, named as Asterisk's console shows it.
type State string

// chan_sip's regstate2str names, and res_pjsip's (Unregistered,
// Registered, Rejected).
const (
	Unregistered State = "Unregistered"
	RequestSent  State = "Request Sent"
	AuthSent     State = "Auth. Sent"
	Registered   State = "Registered"
	Rejected     State = "Rejected"
	NoAuth       State = "No Authentication"
	Failed       State = "Failed"
	Timeout      State = "Timeout"
)

// Status is what the console shows of one registration.
type Status struct {
	Spec    Spec
	State   State
	Refresh time.Duration // granted expiry of the last 200
	RegTime time.Time     // last successful registration; zero: never
	Expires time.Time     // when the binding lapses at the server
	Retries int           // consecutive failures
	Last    string        // last response or error, for logs and the console
}

// Sender sends a request from our socket local and returns the final
// response (sipgo's Client.Do on the client for that socket).
type Sender interface {
	Send(ctx context.Context, local string, req *sip.Request) (*sip.Response, error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, local string, req *sip.Request) (*sip.Response, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, local string, req *sip.Request) (*sip.Response, error) {
	return f(ctx, local, req)
}

// txTimeout bounds one REGISTER transaction (sipgo's Timer F is 32 s).
const txTimeout = 32 * time.Second

// unregisterTimeout bounds the Expires: 0 REGISTER at stop.
const unregisterTimeout = 3 * time.Second

// client keeps one registration alive.
type client struct {
	spec Spec
	send Sender
	log  *slog.Logger

	callID  string
	fromTag string
	cseq    uint32

	mu        sync.Mutex
	st        Status
	settled   State             // last state that is not a step of a request
	chal      *digest.Challenge // last challenge, answered on refreshes
	proxyAuth bool              // chal came in a 407
	nc        int

	// ctx ends the client; run closes done after un-registering. Both are
	// set before run starts.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newClient(spec Spec, send Sender, log *slog.Logger) *client {
	c := &client{
		spec:    spec,
		send:    send,
		callID:  sip.GenerateTagN(24) + "@gopbx",
		fromTag: sip.GenerateTagN(16),
		cseq:    uint32(rand.IntN(1000)) + 1,
		done:    make(chan struct{}),
	}
	c.st, c.settled = Status{Spec: spec, State: Unregistered}, Unregistered
	c.log = log.With("registration", spec.Name, "tech", string(spec.Tech), "server", spec.Host(), "call_id", c.callID)
	return c
}

// Status returns a copy of the current status.
func (c *client) status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// setState records s. Settled states are logged at Info when they
// change; the steps of a refresh (Request Sent, Auth. Sent) at Debug, so a
// healthy trunk logs nothing per refresh.
func (c *client) setState(s State, last string) {
	s = c.shown(s)
	c.mu.Lock()
	prev, settled := c.st.State, c.settled
	c.st.State, c.st.Last = s, last
	transient := s == RequestSent || s == AuthSent
	if !transient {
		c.settled = s
	}
	c.mu.Unlock()
	switch {
	case transient:
		c.log.Debug("registration state", "state", string(s), "previous", string(prev), "last", last)
	case s != settled:
		c.log.Info("registration state", "state", string(s), "previous", string(settled), "last", last)
	}
}

// shown maps chan_sip's finer states to res_pjsip's three for pjsip
// registrations.
func (c *client) shown(s State) State {
	if c.spec.Tech != endpoint.TechPJSIP {
		return s
	}
	switch s {
	case Registered, Rejected:
		return s
	case NoAuth, Failed:
		return Rejected
	default:
		return Unregistered
	}
}

// run registers, refreshes and retries until ctx ends, then un-registers
// when registered.
func (c *client) run(ctx context.Context) {
	defer close(c.done)
	delay := time.Duration(0)
	if c.spec.InitialDelay > 0 {
		// res_pjsip spreads start-up registrations over this window.
		delay = time.Duration(rand.Int64N(int64(c.spec.InitialDelay)))
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			c.unregister()
			return
		case <-timer.C:
		}
		next, ok := c.attempt(ctx)
		if ctx.Err() != nil {
			c.unregister()
			return
		}
		if !ok {
			// Permanent failure: wait for a reload or shutdown.
			<-ctx.Done()
			c.unregister()
			return
		}
		timer.Reset(next)
	}
}

// attempt runs one REGISTER (with its digest round) and returns when to
// try again, or false to stop.
func (c *client) attempt(ctx context.Context) (time.Duration, bool) {
	expiry := c.spec.Expiry
	if expiry <= 0 {
		expiry = time.Hour
	}
	res, err := c.exchange(ctx, expiry)
	if ctx.Err() != nil {
		return 0, true // stopping; run sees ctx
	}
	if err != nil {
		c.log.Warn("register failed", "error", err)
		retry := c.spec.Retry
		if !errors.Is(err, context.DeadlineExceeded) {
			// No answer is Timeout; a send that failed at once (the
			// listener is still being set up, no route) is retried sooner,
			// backing off to the configured interval.
			n := min(c.status().Retries, 5)
			retry = min(retry, time.Second<<n)
		}
		return c.failure(Timeout, err.Error(), retry)
	}
	last := strconv.Itoa(res.StatusCode) + " " + res.Reason
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		granted := grantedExpiry(res, c.contactURI(), expiry)
		now := time.Now()
		c.mu.Lock()
		c.st.Refresh, c.st.RegTime, c.st.Expires, c.st.Retries = granted, now, now.Add(granted), 0
		c.mu.Unlock()
		c.setState(Registered, last)
		c.log.Debug("registered", "expires", granted)
		return c.refreshIn(granted), true
	case res.StatusCode == 401 || res.StatusCode == 407:
		// Still challenged after answering, or no credentials to answer with.
		c.log.Warn("register: credentials refused", "status", res.StatusCode)
		if c.spec.AuthPermanent {
			c.setState(NoAuth, last)
			return 0, false
		}
		return c.failure(NoAuth, last, c.spec.Retry)
	case res.StatusCode == 403:
		c.log.Warn("register: forbidden", "status", res.StatusCode)
		c.setState(Rejected, last)
		if c.spec.Forbidden > 0 {
			return c.spec.Forbidden, true
		}
		return 0, false
	case temporary(res.StatusCode):
		c.log.Warn("register: temporary failure", "status", res.StatusCode)
		return c.failure(Failed, last, retryAfter(res, c.spec.Retry))
	default:
		c.log.Warn("register: rejected", "status", res.StatusCode)
		c.setState(Rejected, last)
		if c.spec.Fatal > 0 {
			return c.spec.Fatal, true
		}
		return 0, false
	}
}

// failure counts a failed attempt; past MaxRetries the client gives up.
func (c *client) failure(s State, last string, retry time.Duration) (time.Duration, bool) {
	c.mu.Lock()
	c.st.Retries++
	n := c.st.Retries
	c.mu.Unlock()
	if c.spec.MaxRetries > 0 && n >= c.spec.MaxRetries {
		c.log.Warn("register: giving up", "attempts", n)
		if s == Timeout {
			s = Failed
		}
		c.setState(s, last)
		if c.spec.Tech == endpoint.TechPJSIP {
			c.setState(Rejected, last)
		}
		return 0, false
	}
	c.setState(s, last)
	if retry <= 0 {
		retry = DefaultRegisterTimeout
	}
	return retry, true
}

func temporary(code int) bool {
	switch code {
	case 408, 480, 500, 502, 503, 504:
		return true
	}
	return false
}

func retryAfter(res *sip.Response, def time.Duration) time.Duration {
	if h := res.GetHeader("Retry-After"); h != nil {
		v, _, _ := strings.Cut(h.Value(), ";")
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return def
}

// refreshIn is when to refresh a binding granted for exp. chan_sip
// re-registers 15 s early, or 20% (at least 0.5 s) early for expiries up
// to 30 s; res_pjsip 10 s early. Both never wait less than a second.
func (c *client) refreshIn(exp time.Duration) time.Duration {
	var d time.Duration
	if c.spec.Tech == endpoint.TechPJSIP {
		d = exp - 10*time.Second
		if exp <= 10*time.Second {
			d = exp / 2
		}
	} else {
		if exp <= 30*time.Second {
			d = exp - max(exp/5, 500*time.Millisecond)
		} else {
			d = exp - 15*time.Second
		}
	}
	return max(d, time.Second)
}

// exchange sends one REGISTER for expiry and answers one digest
// challenge; it returns the final response of the last request. Like
// Asterisk, it answers the last challenge pre-emptively on refreshes
// (nonce count incremented) and only starts over when challenged again.
func (c *client) exchange(ctx context.Context, expiry time.Duration) (*sip.Response, error) {
	req, authed, err := c.request(expiry)
	if err != nil {
		return nil, err
	}
	if expiry > 0 {
		c.setState(map[bool]State{false: RequestSent, true: AuthSent}[authed], "")
	}
	res, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == 423 {
		// Interval Too Brief: ask again for Min-Expires (RFC 3261 §10.2.8).
		if h := res.GetHeader("Min-Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 && time.Duration(n)*time.Second > expiry {
				expiry = time.Duration(n) * time.Second
				if req, _, err = c.request(expiry); err != nil {
					return nil, err
				}
				if res, err = c.do(ctx, req); err != nil {
					return nil, err
				}
			}
		}
	}
	if res.StatusCode != 401 && res.StatusCode != 407 || c.spec.Username == "" {
		return res, nil
	}
	if err := c.challenged(res); err != nil {
		return nil, err
	}
	if req, _, err = c.request(expiry); err != nil {
		return nil, err
	}
	if expiry > 0 {
		c.setState(AuthSent, strconv.Itoa(res.StatusCode)+" "+res.Reason)
	}
	res, err = c.do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		c.mu.Lock()
		c.chal = nil // refused: do not replay it
		c.mu.Unlock()
	}
	return res, err
}

// challenged remembers the challenge in res for the next requests.
func (c *client) challenged(res *sip.Response) error {
	name := "WWW-Authenticate"
	if res.StatusCode == 407 {
		name = "Proxy-Authenticate"
	}
	h := res.GetHeader(name)
	if h == nil {
		return fmt.Errorf("trunk: %d without %s", res.StatusCode, name)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return fmt.Errorf("trunk: challenge %q: %w", h.Value(), err)
	}
	chal.Algorithm = strings.ToUpper(chal.Algorithm)
	c.mu.Lock()
	c.chal, c.proxyAuth, c.nc = chal, res.StatusCode == 407, 0
	c.mu.Unlock()
	return nil
}

// request builds the next REGISTER and answers the remembered challenge
// on it, if any.
func (c *client) request(expiry time.Duration) (*sip.Request, bool, error) {
	req, err := c.build(expiry)
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	chal, proxy := c.chal, c.proxyAuth
	c.nc++
	nc := c.nc
	c.mu.Unlock()
	if chal == nil || c.spec.Username == "" {
		return req, false, nil
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method:   string(sip.REGISTER),
		URI:      req.Recipient.String(),
		Username: c.spec.Username,
		Password: c.spec.Password,
		Count:    nc,
	})
	if err != nil {
		return nil, false, fmt.Errorf("trunk: digest: %w", err)
	}
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	req.AppendHeader(sip.NewHeader(name, cred.String()))
	return req, true, nil
}

func (c *client) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, txTimeout)
	defer cancel()
	res, err := c.send.Send(ctx, c.spec.Local, req)
	if err != nil {
		return nil, fmt.Errorf("trunk: register %s: %w", c.spec.Host(), err)
	}
	return res, nil
}

// dest is where the REGISTER goes: the outbound proxy, else the server.
func (c *client) dest() (string, error) {
	hp := c.spec.Proxy
	if hp == "" {
		hp = c.spec.Addr
	}
	if hp == "" {
		var u sip.Uri
		if err := sip.ParseUri(c.spec.Server, &u); err != nil {
			return "", fmt.Errorf("trunk: server %q: %w", c.spec.Server, err)
		}
		hp = hostPort(u.Host, u.Port, 0)
	}
	host, port := hp, ""
	if h, p, err := net.SplitHostPort(hp); err == nil {
		host, port = h, p
	} else {
		host = strings.Trim(hp, "[]")
	}
	if port == "" {
		port = "5060"
		if strings.EqualFold(c.spec.Transport, "TLS") {
			port = "5061"
		}
	}
	ips, err := net.LookupHost(host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("trunk: resolve %q: %w", host, err)
	}
	return net.JoinHostPort(ips[0], port), nil
}

// contactURI is our Contact: the contact user at the address of the
// listener the REGISTER leaves from, as the server can reach it.
func (c *client) contactURI() sip.Uri {
	u := sip.Uri{Scheme: "sip", User: c.spec.ContactUser}
	dest, _ := c.dest()
	host, port := sipserver.Advertised(c.spec.Local, dest)
	u.Host, u.Port = host, port
	if t := strings.ToLower(c.spec.Transport); t != "" && t != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", t)
	}
	return u
}

// build makes the next REGISTER of this client's Call-ID.
func (c *client) build(expiry time.Duration) (*sip.Request, error) {
	var server, aor sip.Uri
	if err := sip.ParseUri(c.spec.Server, &server); err != nil {
		return nil, fmt.Errorf("trunk: server %q: %w", c.spec.Server, err)
	}
	if err := sip.ParseUri(c.spec.AOR, &aor); err != nil {
		return nil, fmt.Errorf("trunk: aor %q: %w", c.spec.AOR, err)
	}
	dest, err := c.dest()
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.REGISTER, server)
	req.SetTransport(c.spec.Transport)
	req.SetDestination(dest)
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", c.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	cid := sip.CallIDHeader(c.callID)
	req.AppendHeader(&cid)
	c.mu.Lock()
	c.cseq++
	seq := c.cseq
	c.mu.Unlock()
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.REGISTER})
	maxf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxf)
	if c.spec.Route != "" {
		req.AppendHeader(sip.NewHeader("Route", c.spec.Route))
	}
	req.AppendHeader(&sip.ContactHeader{Address: c.contactURI()})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expiry/time.Second))))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
	if c.spec.UserAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", c.spec.UserAgent))
	}
	req.SetBody(nil)
	return req, nil
}

// grantedExpiry is the lifetime the server gave our Contact: its expires
// parameter in the 200, else the Expires header, else what we asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		ct, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if ct.Address.User != ours.User || ct.Address.Host != ours.Host || (ct.Address.Port != ours.Port && ct.Address.Port != 0) {
			continue
		}
		if v, ok := ct.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// unregister removes our binding (Expires: 0) when we hold one, as
// Asterisk does when a registration is unloaded.
func (c *client) unregister() {
	// A binding the server still holds, even while a refresh was in flight.
	if st := c.status(); st.Expires.IsZero() || !time.Now().Before(st.Expires) {
		c.setState(Unregistered, "stopped")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
	defer cancel()
	res, err := c.exchange(ctx, 0)
	switch {
	case err != nil:
		c.log.Warn("unregister failed", "error", err)
	case res.StatusCode >= 300:
		c.log.Warn("unregister refused", "status", res.StatusCode)
	default:
		c.log.Info("unregistered")
	}
	c.mu.Lock()
	c.st.RegTime, c.st.Expires = time.Time{}, time.Time{}
	c.mu.Unlock()
	c.setState(Unregistered, "stopped")
}

var _ Sender = SenderFunc(nil)
