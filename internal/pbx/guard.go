package pbx

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/sipserver"
	"github.com/gopbx/gopbx/internal/sipserver/sipauth"
)

// guard is the registrar's (and later the call path's) digest gate. It
// answers every failure itself: a challenge, a stale re-challenge, or 403.
type guard struct {
	log    *slog.Logger
	secret []byte // kept across reloads so outstanding nonces stay valid
	auth   atomic.Pointer[sipauth.Authenticator]
}

type epKey struct{}

func newGuard(log *slog.Logger, cfg *pbxconf.PBX) (*guard, error) {
	g := &guard{log: log.With("component", "auth"), secret: make([]byte, 32)}
	rand.Read(g.secret)
	if err := g.update(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *guard) update(cfg *pbxconf.PBX) error {
	a, err := sipauth.New(sipauth.Config{
		Realm:  cfg.Realm,
		Secret: g.secret,
		Lookup: sipauth.LookupFunc(lookupFromContext),
	})
	if err != nil {
		return fmt.Errorf("pbx: authentication: %w", err)
	}
	g.auth.Store(a)
	return nil
}

// lookupFromContext returns the credentials of the endpoint the request is
// for: a REGISTER for 1000 must prove 1000's password, not any user's.
func lookupFromContext(ctx context.Context, username string) ([]endpoint.Credential, bool) {
	ep, _ := ctx.Value(epKey{}).(*endpoint.Endpoint)
	if ep == nil {
		return nil, false
	}
	c, ok := ep.Credential(username)
	if !ok {
		return nil, false
	}
	return []endpoint.Credential{c}, true
}

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
	if ep != nil && len(ep.Credentials) > 0 {
		opts.Algorithms = sipauth.ChallengeAlgorithms(ep.Credentials)
		opts.Realm = ep.Credentials[0].Realm
	}
	res, err := a.Verify(context.WithValue(ctx, epKey{}, ep), r.Request, opts)
	if err == nil {
		return true
	}
	switch {
	case sipauth.IsFailed(err):
		g.log.Warn("security: authentication failed", "event", "ChallengeResponseFailed",
			"src", r.Source(), "username", res.Username, "call_id", r.CallID().Value(), "method", string(r.Method), "error", err)
		r.Respond(403, "Forbidden")
		return false
	case sipauth.IsStale(err):
		opts.Stale = true
	default:
		if !errors.Is(err, sipauth.ErrNoCredentials) {
			g.log.Warn("security: invalid credentials", "event", "InvalidAccountID",
				"src", r.Source(), "username", res.Username, "error", err)
		}
	}
	if err := r.Send(a.Challenge(r.Request, opts)); err != nil {
		g.log.Warn("send challenge", "error", err)
	}
	return false
}

var _ registrar.Guard = (*guard)(nil)
