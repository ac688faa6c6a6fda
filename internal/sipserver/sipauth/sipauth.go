package sipauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// Errors returned by [Authenticator.Verify], always wrapped with details for
// logs. None of them may be shown to the client; see [IsFailed] and
// [IsStale].
var (
	// ErrNoCredentials: the request carries no Authorization (or
	// Proxy-Authorization) header. Answer with a challenge.
	ErrNoCredentials = errors.New("sipauth: no credentials")
	// ErrInvalid: the credentials are malformed or do not belong to us (bad
	// nonce HMAC, opaque, realm, uri, algorithm, qop...). Answer with a
	// fresh challenge.
	ErrInvalid = errors.New("sipauth: invalid credentials")
	// ErrStale: the digest is right but the nonce expired. Answer with a
	// challenge carrying stale=true.
	ErrStale = errors.New("sipauth: stale nonce")
	// ErrReplay: the digest is right but the nonce was already used with this
	// or a higher nonce-count, or was single-use (no qop). Answer like
	// ErrStale.
	ErrReplay = errors.New("sipauth: replayed nonce")
	// ErrWrongPassword: the user exists but the digest does not match any of
	// its credentials.
	ErrWrongPassword = errors.New("sipauth: wrong password")
	// ErrUnknownUser: the lookup found no credential for the username.
	// Answer exactly as ErrWrongPassword (alwaysauthreject).
	ErrUnknownUser = errors.New("sipauth: unknown user")
)

// IsFailed reports whether err means the client failed to prove it knows a
// password: a wrong password or an unknown user. Callers must answer both
// the same way so as not to reveal which usernames exist.
func IsFailed(err error) bool {
	return errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrUnknownUser)
}

// IsStale reports whether err means the client proved it knows the password
// but its nonce can no longer be used (expired, replayed, or forgotten):
// answer with a new challenge carrying stale=true, so that the client retries
// without prompting its user.
func IsStale(err error) bool {
	return errors.Is(err, ErrStale) || errors.Is(err, ErrReplay)
}

// Lookup finds the credentials a username may authenticate with. ok is false
// when the user is unknown. Implementations log their own storage errors and
// report them as ok == false.
type Lookup interface {
	LookupCredentials(ctx context.Context, username string) (creds []endpoint.Credential, ok bool)
}

// LookupFunc adapts a function to [Lookup].
type LookupFunc func(ctx context.Context, username string) ([]endpoint.Credential, bool)

// LookupCredentials calls f.
func (f LookupFunc) LookupCredentials(ctx context.Context, username string) ([]endpoint.Credential, bool) {
	return f(ctx, username)
}

// Config configures an [Authenticator].
type Config struct {
	// Realm is the default realm of challenges and the realm credentials
	// with an empty Credential.Realm belong to. Required.
	Realm string
	// Lookup finds a user's credentials. Required.
	Lookup Lookup
	// Secret keys the nonce HMAC. Nil means 32 random bytes, so nonces die
	// with the process; instances that must accept each other's nonces share
	// one.
	Secret []byte
	// NonceLifetime is how long a nonce stays usable. Zero means 32 s
	// (Asterisk pjsip nonce_lifetime).
	NonceLifetime time.Duration
	// Algorithms are the algorithms challenged with by default, in
	// preference order. Nil means ["MD5"].
	Algorithms []string
	// MaxNonces bounds the replay table (nonces seen with their highest
	// nonce-count). Zero means 65536. It is rounded up to a multiple of the
	// shard count (32).
	MaxNonces int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// StrictURI refuses credentials whose uri parameter is not the
	// Request-URI (RFC 2617 §3.2.2.5 says the server SHOULD check). Off by
	// default, as in Asterisk's res_pjsip and Kamailio: real clients such
	// as SIPp compute the digest over a different URI, and the nonce,
	// nonce-count and realm binding already stop replays.
	StrictURI bool
}

// DefaultNonceLifetime is the nonce lifetime when Config.NonceLifetime is 0.
const DefaultNonceLifetime = 32 * time.Second

// DefaultMaxNonces is the replay table bound when Config.MaxNonces is 0.
const DefaultMaxNonces = 1 << 16

// Authenticator challenges and verifies requests. It is safe for concurrent
// use.
type Authenticator struct {
	realm    string
	lookup   Lookup
	key      macKey
	opaque   string
	lifetime int64 // ns
	strict   bool
	algs     []Algorithm
	now      func() time.Time
	replay   *replayTable
}

// New returns an Authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Realm == "" {
		return nil, errors.New("sipauth: config: realm is required")
	}
	if err := checkQuotable(cfg.Realm); err != nil {
		return nil, fmt.Errorf("sipauth: config: realm: %w", err)
	}
	if cfg.Lookup == nil {
		return nil, errors.New("sipauth: config: lookup is required")
	}
	if cfg.NonceLifetime < 0 {
		return nil, fmt.Errorf("sipauth: config: negative nonce lifetime %v", cfg.NonceLifetime)
	}
	if cfg.MaxNonces < 0 {
		return nil, fmt.Errorf("sipauth: config: negative max nonces %d", cfg.MaxNonces)
	}
	a := &Authenticator{
		realm:    cfg.Realm,
		lookup:   cfg.Lookup,
		lifetime: int64(cfg.NonceLifetime),
		now:      cfg.Now,
		strict:   cfg.StrictURI,
	}
	if a.lifetime == 0 {
		a.lifetime = int64(DefaultNonceLifetime)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.Algorithms == nil {
		a.algs = []Algorithm{MD5}
	} else {
		for _, s := range cfg.Algorithms {
			alg, ok := ParseAlgorithm(s)
			if !ok {
				return nil, fmt.Errorf("sipauth: config: unsupported algorithm %q", s)
			}
			a.algs = appendUnique(a.algs, alg)
		}
		if len(a.algs) == 0 {
			return nil, errors.New("sipauth: config: empty algorithm list")
		}
	}
	secret := cfg.Secret
	if secret == nil {
		secret = make([]byte, 32)
		rand.Read(secret) // never fails since Go 1.24
	} else if len(secret) < 16 {
		return nil, fmt.Errorf("sipauth: config: secret is %d bytes, need at least 16", len(secret))
	}
	a.key = newMACKey(secret)
	a.opaque = a.key.opaque()
	maxNonces := cfg.MaxNonces
	if maxNonces == 0 {
		maxNonces = DefaultMaxNonces
	}
	a.replay = newReplayTable(maxNonces, a.lifetime, a.now().UnixNano())
	return a, nil
}

// Kind selects the challenge flavour and the header pair.
type Kind uint8

const (
	// KindAuto is KindWWW for REGISTER and KindProxy for other methods.
	KindAuto Kind = iota
	// KindWWW: 401 Unauthorized, WWW-Authenticate / Authorization.
	KindWWW
	// KindProxy: 407 Proxy Authentication Required, Proxy-Authenticate /
	// Proxy-Authorization.
	KindProxy
)

// Resolve returns KindWWW or KindProxy for req.
func (k Kind) Resolve(req *sip.Request) Kind {
	if k != KindAuto {
		return k
	}
	if req.Method == sip.REGISTER {
		return KindWWW
	}
	return KindProxy
}

func (k Kind) challengeHeader() string {
	if k == KindProxy {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

func (k Kind) credentialsHeader() string {
	if k == KindProxy {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// Options are the per-request settings of Challenge and Verify. Pass the
// same Kind and Realm to both.
type Options struct {
	Kind Kind
	// Realm overrides Config.Realm. A realm with CR, LF or NUL is ignored.
	Realm string
	// Algorithms overrides Config.Algorithms for Challenge, in preference
	// order; unsupported names are skipped. Verify ignores it: the matched
	// credential's Algorithms decide what is accepted.
	Algorithms []string
	// Stale adds stale=true to the challenge (after ErrStale or ErrReplay).
	Stale bool
	// Credentials, when not nil, are the only ones Verify accepts (the
	// credential whose Username the client sent), instead of asking
	// Config.Lookup: a caller that already knows the endpoint saves the
	// lookup's allocations per request.
	Credentials []endpoint.Credential
}

func (a *Authenticator) realmFor(o *Options) string {
	if o.Realm != "" && checkQuotable(o.Realm) == nil {
		return o.Realm
	}
	return a.realm
}

// Result describes the outcome of Verify.
type Result struct {
	// Username is the username the client sent. It is set whenever a header
	// for our realm was parsed, also on failure (for logs and fail2ban).
	Username string
	// Realm is the realm the client answered for.
	Realm string
	// Algorithm is the algorithm the client used, e.g. "SHA-256".
	Algorithm string
	// Credential is the credential that matched; zero unless Verify
	// returned nil.
	Credential endpoint.Credential
}

func appendUnique(algs []Algorithm, alg Algorithm) []Algorithm {
	for _, a := range algs {
		if a == alg {
			return algs
		}
	}
	return append(algs, alg)
}

// checkQuotable refuses strings that cannot travel in a quoted-string.
func checkQuotable(s string) error {
	if i := strings.IndexAny(s, "\r\n\x00"); i >= 0 {
		return fmt.Errorf("control character at offset %d", i)
	}
	return nil
}

// Interface guard.
var _ Lookup = LookupFunc(nil)
