package sipauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// Verify checks the Authorization (KindWWW) or Proxy-Authorization
// (KindProxy) header of req against the credentials the Lookup returns.
// Among several such headers it uses the first one for the realm (RFC 3261
// §22.3); headers that are all for other realms (say, an upstream proxy's)
// or unparsable give ErrInvalid. On success it returns the matched
// credential and a nil error, and records the nonce-count, so the same
// credentials are not accepted twice.
// Otherwise the error wraps one of ErrNoCredentials, ErrInvalid, ErrStale,
// ErrReplay, ErrWrongPassword or ErrUnknownUser; see the package
// documentation for the response to send. Result.Username is set whenever a
// header for the realm was found.
//
// The checks run in this order: header, syntax, algorithm and qop, opaque,
// uri, nonce HMAC (ErrInvalid); lookup and digest (ErrUnknownUser,
// ErrWrongPassword); nonce age (ErrStale); nonce-count (ErrReplay). So stale
// and replay are reported only to a client that knows the password.
func (a *Authenticator) Verify(ctx context.Context, req *sip.Request, opts Options) (Result, error) {
	kind := opts.Kind.Resolve(req)
	realm := a.realmFor(&opts)
	name := kind.credentialsHeader()

	var c Authorization
	found, seen := false, 0
	var firstErr error
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), name) {
			continue
		}
		seen++
		c = Authorization{}
		if err := parseAuthorization(h.Value(), &c); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if c.Realm == realm {
			found = true
			break
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("realm %q, want %q", c.Realm, realm)
		}
	}
	switch {
	case seen == 0:
		return Result{}, noCredentials(name)
	case !found:
		return Result{}, fmt.Errorf("%w: no %s for realm %q: %w", ErrInvalid, name, realm, firstErr)
	}
	res := Result{Username: c.Username, Realm: c.Realm}

	alg, ok := ParseAlgorithm(c.Algorithm)
	if !ok {
		return res, fmt.Errorf("%w: user %q: unsupported algorithm %q", ErrInvalid, c.Username, c.Algorithm)
	}
	res.Algorithm = alg.String()
	if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
		return res, fmt.Errorf("%w: user %q: missing username, nonce, uri or response", ErrInvalid, c.Username)
	}
	if c.Userhash != "" && !strings.EqualFold(c.Userhash, "false") {
		return res, fmt.Errorf("%w: user %q: userhash not supported", ErrInvalid, c.Username)
	}
	var nc uint32 // 0: no qop
	switch {
	case c.QOP == "":
		if alg.sess() {
			return res, fmt.Errorf("%w: user %q: %s without qop", ErrInvalid, c.Username, alg)
		}
		c.NC, c.CNonce = "", ""
	case strings.EqualFold(c.QOP, "auth"):
		c.QOP = "auth"
		if c.CNonce == "" {
			return res, fmt.Errorf("%w: user %q: qop without cnonce", ErrInvalid, c.Username)
		}
		if nc, ok = parseNC(c.NC); !ok {
			return res, fmt.Errorf("%w: user %q: bad nc %q", ErrInvalid, c.Username, c.NC)
		}
	default:
		return res, fmt.Errorf("%w: user %q: unsupported qop %q", ErrInvalid, c.Username, c.QOP)
	}
	var got [32]byte
	if !decodeHex(got[:alg.size()], c.Response) {
		return res, fmt.Errorf("%w: user %q: response is not a %s hex digest", ErrInvalid, c.Username, alg)
	}
	if c.Opaque != a.opaque {
		return res, fmt.Errorf("%w: user %q: wrong opaque %q", ErrInvalid, c.Username, c.Opaque)
	}
	if a.strict && !uriMatches(&req.Recipient, c.URI) {
		return res, fmt.Errorf("%w: user %q: uri %q is not the Request-URI", ErrInvalid, c.Username, c.URI)
	}
	issued, key, ok := a.key.checkNonce(c.Nonce, realm)
	if !ok {
		return res, fmt.Errorf("%w: user %q: nonce %q is not ours", ErrInvalid, c.Username, c.Nonce)
	}

	in := digestInput{
		Method: string(req.Method), URI: c.URI,
		Nonce: c.Nonce, CNonce: c.CNonce, NC: c.NC, QOP: c.QOP,
	}
	creds, ok := a.credentials(ctx, c.Username, &opts)
	if !ok || len(creds) == 0 {
		a.burn(alg, c.Username, realm, &in)
		return res, fmt.Errorf("%w: user %q realm %q", ErrUnknownUser, c.Username, realm)
	}
	matched, tried := -1, false
	for i := range creds {
		cr := &creds[i]
		if cr.Username != c.Username || (cr.Realm != "" && cr.Realm != realm) || !allows(cr, alg) {
			continue
		}
		var ha1Buf [64]byte
		var ha1 []byte
		if cr.Password != "" {
			ha1 = computeHA1(ha1Buf[:0], alg, c.Username, realm, cr.Password)
		} else if ha1, ok = normalizeHA1(&ha1Buf, cr.HA1, alg.size()); !ok {
			continue
		}
		tried = true
		var want [32]byte
		n := computeResponse(&want, alg, ha1, &in)
		if subtle.ConstantTimeCompare(want[:n], got[:n]) == 1 {
			matched = i
			break
		}
	}
	if matched < 0 {
		if !tried {
			a.burn(alg, c.Username, realm, &in)
			return res, fmt.Errorf("%w: user %q realm %q: no credential usable with %s", ErrWrongPassword, c.Username, realm, alg)
		}
		return res, fmt.Errorf("%w: user %q realm %q", ErrWrongPassword, c.Username, realm)
	}

	now := a.now().UnixNano()
	if age := now - issued; age > a.lifetime || age < -a.lifetime {
		return res, fmt.Errorf("%w: user %q: nonce issued %v ago", ErrStale, c.Username, time.Duration(age))
	}
	switch a.replay.use(key, issued, nc, now) {
	case replayReused:
		if nc == 0 {
			return res, fmt.Errorf("%w: user %q: nonce without qop reused", ErrReplay, c.Username)
		}
		return res, fmt.Errorf("%w: user %q: nc %s not above the last one", ErrReplay, c.Username, c.NC)
	case replayForgotten:
		return res, fmt.Errorf("%w: user %q: nonce older than the replay table", ErrStale, c.Username)
	}
	res.Credential = creds[matched]
	return res, nil
}

// burn spends the hashing work of a real check, so that an unknown user
// takes as long to refuse as a wrong password.
func (a *Authenticator) burn(alg Algorithm, username, realm string, in *digestInput) {
	var ha1 [64]byte
	h := computeHA1(ha1[:0], alg, username, realm, "burn")
	var out [32]byte
	computeResponse(&out, alg, h, in)
}

// parseNC parses a non-zero nonce-count of 1 to 8 hex digits.
func parseNC(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		v, ok := unhex(s[i])
		if !ok {
			return 0, false
		}
		n = n<<4 | uint32(v)
	}
	return n, n != 0
}

// The errors of a request without credentials, made once: the first
// REGISTER of every registration has none, and formatting the error was
// five allocations of each.
var (
	errNoAuthorization      = fmt.Errorf("%w: no Authorization header", ErrNoCredentials)
	errNoProxyAuthorization = fmt.Errorf("%w: no Proxy-Authorization header", ErrNoCredentials)
)

func noCredentials(header string) error {
	switch header {
	case "Authorization":
		return errNoAuthorization
	case "Proxy-Authorization":
		return errNoProxyAuthorization
	}
	return fmt.Errorf("%w: no %s header", ErrNoCredentials, header)
}

// credentials are the credentials username may authenticate with: among
// opts.Credentials when the caller gave them, else from Config.Lookup.
func (a *Authenticator) credentials(ctx context.Context, username string, opts *Options) ([]endpoint.Credential, bool) {
	if opts.Credentials == nil {
		return a.lookup.LookupCredentials(ctx, username)
	}
	for i := range opts.Credentials {
		if opts.Credentials[i].Username == username {
			return opts.Credentials[i : i+1], true
		}
	}
	return nil, false
}
