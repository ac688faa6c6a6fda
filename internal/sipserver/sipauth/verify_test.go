package sipauth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
)

const regURI = "sip:pbx.example.com"

func TestVerify(t *testing.T) {
	tests := []struct {
		name        string
		method      string // default REGISTER
		ruri        string // default regURI
		opts        Options
		verifyOpts  *Options // default opts
		alg         string   // challenge answered; default MD5
		user, pass  string
		mod         func(c *clientAuth)
		advance     time.Duration
		lifetime    time.Duration
		extra       []string // more header lines, before the answer
		noAnswer    bool
		wantErr     error
		wantErrText string
		wantUser    string
		wantCredPw  string
	}{
		{name: "ok MD5", user: "alice", pass: "wonderland", wantCredPw: "wonderland"},
		{name: "ok SHA-256", opts: Options{Algorithms: []string{"SHA-256", "MD5"}}, alg: "SHA-256",
			user: "bob", pass: "builder", wantCredPw: "builder"},
		{name: "ok MD5 when SHA-256 offered too", opts: Options{Algorithms: []string{"SHA-256", "MD5"}},
			user: "bob", pass: "builder"},
		{name: "ok MD5-sess", opts: Options{Algorithms: []string{"MD5-sess"}}, alg: "MD5-sess",
			user: "alice", pass: "wonderland"},
		{name: "ok SHA-256-sess", opts: Options{Algorithms: []string{"SHA-256-sess"}}, alg: "SHA-256-sess",
			user: "bob", pass: "builder"},
		{name: "ok no algorithm param means MD5", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.SkipAlgorithm = true }},
		{name: "ok everything quoted, lowercase algorithm", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.QuoteEverything = true; c.Algorithm = "md5" }},
		{name: "ok uppercase response hex", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) {
				c.Response = strings.ToUpper(refDigest(c.Algorithm, c.Username, c.Realm, c.Password, c.Method, c.URI, c.Nonce, c.NC, c.CNonce, c.QOP))
			}},
		{name: "ok no qop", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.QOP = "" }},
		{name: "ok HA1 credential", user: "carol", pass: "hashed"},
		{name: "ok second credential", user: "dave", pass: "new", wantCredPw: "new"},
		{name: "ok INVITE proxy", method: "INVITE", ruri: "sip:100@pbx.example.com",
			user: "alice", pass: "wonderland"},
		{name: "ok INVITE forced www", method: "INVITE", ruri: "sip:100@pbx.example.com",
			opts: Options{Kind: KindWWW}, user: "alice", pass: "wonderland"},
		{name: "ok REGISTER forced proxy", opts: Options{Kind: KindProxy}, user: "alice", pass: "wonderland"},
		{name: "ok other realm", opts: Options{Realm: "other.example.com"}, user: "erin", pass: "elsewhere"},
		{name: "ok uri with params reordered and cased", ruri: "sip:100@pbx.example.com;transport=udp;user=phone",
			method: "INVITE", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.URI = "SIP:100@PBX.example.com;User=phone;transport=UDP" }},
		{name: "ok picks header for our realm", user: "alice", pass: "wonderland",
			extra: []string{`Authorization: Digest username="alice", realm="upstream", nonce="x", uri="sip:pbx.example.com", response="00"`,
				`Authorization: Basic YWxpY2U6d29uZGVybGFuZA==`}},
		{name: "ok unknown params ignored", user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.Extra = `foo=bar, baz="q,u\"x"` }},

		{name: "no header", noAnswer: true, wantErr: ErrNoCredentials},
		{name: "authorization on INVITE challenged with 407", method: "INVITE", ruri: "sip:100@pbx.example.com",
			verifyOpts: &Options{}, user: "alice", pass: "wonderland",
			mod: func(c *clientAuth) { c.Header = "Authorization" }, wantErr: ErrNoCredentials},
		{name: "wrong password", user: "alice", pass: "alice", wantErr: ErrWrongPassword, wantUser: "alice"},
		{name: "unknown user", user: "mallory", pass: "x", wantErr: ErrUnknownUser, wantUser: "mallory"},
		{name: "username case differs", user: "Alice", pass: "wonderland", wantErr: ErrUnknownUser},
		{name: "HA1 credential with SHA-256", opts: Options{Algorithms: []string{"SHA-256"}}, alg: "SHA-256",
			user: "carol", pass: "hashed", wantErr: ErrWrongPassword, wantErrText: "no credential usable with SHA-256"},
		{name: "MD5-only credential with SHA-256", opts: Options{Algorithms: []string{"SHA-256"}}, alg: "SHA-256",
			user: "alice", pass: "wonderland", wantErr: ErrWrongPassword},
		{name: "SHA-256-only credential with MD5", user: "sha", pass: "only", wantErr: ErrWrongPassword},
		{name: "credential for another realm", user: "erin", pass: "elsewhere", wantErr: ErrWrongPassword},
		{name: "stale", user: "alice", pass: "wonderland", advance: 33 * time.Second, wantErr: ErrStale},
		{name: "not yet stale", user: "alice", pass: "wonderland", advance: 31 * time.Second},
		{name: "stale with custom lifetime", user: "alice", pass: "wonderland", advance: 6 * time.Second,
			lifetime: 5 * time.Second, wantErr: ErrStale},
		{name: "stale but wrong password", user: "alice", pass: "nope", advance: time.Hour, wantErr: ErrWrongPassword},
		{name: "stale but unknown user", user: "mallory", pass: "nope", advance: time.Hour, wantErr: ErrUnknownUser},
		{name: "tampered nonce", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "not ours",
			mod: func(c *clientAuth) { c.Nonce = flipNonce(c.Nonce) }},
		{name: "garbage nonce", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093" }},
		{name: "wrong realm", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: `realm "evil"`,
			mod: func(c *clientAuth) { c.Realm = "evil" }},
		{name: "nonce of another realm", opts: Options{Realm: "other.example.com"}, verifyOpts: &Options{},
			user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Realm = testRealm }},
		{name: "wrong opaque", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "opaque",
			mod: func(c *clientAuth) { c.Opaque = "AAAAAAAAAAAAAAAA" }},
		{name: "missing opaque", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "opaque",
			mod: func(c *clientAuth) { c.SkipOpaque = true }},
		{name: "uri mismatch", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "Request-URI",
			mod: func(c *clientAuth) { c.URI = "sip:evil.example.com" }},
		{name: "uri param missing", method: "INVITE", ruri: "sip:100@pbx.example.com;transport=tcp",
			user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.URI = "sip:100@pbx.example.com" }},
		{name: "qop without cnonce", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "cnonce",
			mod: func(c *clientAuth) { c.CNonce = "" }},
		{name: "nc zero", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "nc",
			mod: func(c *clientAuth) { c.NC = "00000000" }},
		{name: "nc not hex", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.NC = "0000000g" }},
		{name: "qop auth-int", user: "alice", pass: "wonderland", wantErr: ErrInvalid, wantErrText: "qop",
			mod: func(c *clientAuth) { c.QOP = "auth-int" }},
		{name: "unsupported algorithm", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Algorithm = "SHA-512-256"; c.Response = strings.Repeat("0", 64) }},
		{name: "sess without qop", opts: Options{Algorithms: []string{"MD5-sess"}}, alg: "MD5-sess",
			user: "alice", pass: "wonderland", wantErr: ErrInvalid, mod: func(c *clientAuth) { c.QOP = "" }},
		{name: "response wrong length", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Response = "abcd" }},
		{name: "userhash", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Extra = "userhash=true" }},
		{name: "missing uri", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.URI = ""; c.Extra = "" }},
		{name: "malformed header", noAnswer: true, wantErr: ErrInvalid,
			extra: []string{`Authorization: Digest username="alice, realm="pbx.example.com"`}},
		{name: "repeated parameter", user: "alice", pass: "wonderland", wantErr: ErrInvalid,
			mod: func(c *clientAuth) { c.Extra = `realm="` + testRealm + `"` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NonceLifetime = tt.lifetime })
			method, ruri := tt.method, tt.ruri
			if method == "" {
				method = "REGISTER"
			}
			if ruri == "" {
				ruri = regURI
			}
			vopts := tt.opts
			if tt.verifyOpts != nil {
				vopts = *tt.verifyOpts
			}
			var req *sip.Request
			if tt.noAnswer {
				req = newRequest(t, method, ruri, tt.extra...)
			} else {
				res := h.auth.Challenge(newRequest(t, method, ruri), tt.opts)
				alg := tt.alg
				if alg == "" {
					alg = "MD5"
				}
				c := fromChallenge(t, res, alg)
				c.Username, c.Password, c.Method, c.URI = tt.user, tt.pass, method, ruri
				if tt.mod != nil {
					tt.mod(&c)
				}
				if c.URI == "" {
					// Leave the uri parameter out entirely.
					v := strings.Replace(c.value(), `uri="", `, "", 1)
					req = newRequest(t, method, ruri, append(tt.extra, c.Header+": "+v)...)
				} else {
					req = newRequest(t, method, ruri, append(tt.extra, c.line())...)
				}
			}
			h.clock.Advance(tt.advance)

			got, err := h.auth.Verify(context.Background(), req, vopts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.Username != tt.user {
					t.Errorf("Username = %q, want %q", got.Username, tt.user)
				}
				if got.Credential.Username != tt.user {
					t.Errorf("Credential = %+v", got.Credential)
				}
				if tt.wantCredPw != "" && got.Credential.Password != tt.wantCredPw {
					t.Errorf("Credential.Password = %q, want %q", got.Credential.Password, tt.wantCredPw)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErrText != "" && !strings.Contains(err.Error(), tt.wantErrText) {
				t.Errorf("error %q does not contain %q", err, tt.wantErrText)
			}
			if !strings.HasPrefix(err.Error(), "sipauth: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tt.wantUser != "" && got.Username != tt.wantUser {
				t.Errorf("Username = %q, want %q", got.Username, tt.wantUser)
			}
			if got.Credential.Username != "" {
				t.Errorf("Credential set on failure: %+v", got.Credential)
			}
		})
	}
}

// flipNonce changes one character of a nonce, keeping it well-formed.
func flipNonce(n string) string {
	b := []byte(n)
	if b[20] == 'A' {
		b[20] = 'B'
	} else {
		b[20] = 'A'
	}
	return string(b)
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		err           error
		failed, stale bool
	}{
		{ErrNoCredentials, false, false},
		{ErrInvalid, false, false},
		{ErrStale, false, true},
		{ErrReplay, false, true},
		{ErrWrongPassword, true, false},
		{ErrUnknownUser, true, false},
		{nil, false, false},
	}
	for _, tt := range tests {
		if got := IsFailed(tt.err); got != tt.failed {
			t.Errorf("IsFailed(%v) = %v", tt.err, got)
		}
		if got := IsStale(tt.err); got != tt.stale {
			t.Errorf("IsStale(%v) = %v", tt.err, got)
		}
	}
}

// step is one request of a sequence on the same challenge.
type step struct {
	nc      string // "" : no qop
	advance time.Duration
	wantErr error
}

func TestVerifyNonceReuse(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"nc increasing", []step{{nc: "00000001"}, {nc: "00000002"}, {nc: "00000005"}, {nc: "0000000a", advance: 20 * time.Second}}},
		{"nc replayed", []step{{nc: "00000001"}, {nc: "00000001", wantErr: ErrReplay}, {nc: "00000002"}}},
		{"nc lower", []step{{nc: "00000003"}, {nc: "00000002", wantErr: ErrReplay}, {nc: "00000004"}}},
		{"nc short form", []step{{nc: "1"}, {nc: "00000001", wantErr: ErrReplay}, {nc: "2"}}},
		{"no qop single use", []step{{}, {wantErr: ErrReplay}}},
		{"no qop then qop", []step{{}, {nc: "00000001", wantErr: ErrReplay}}},
		{"qop then no qop", []step{{nc: "00000001"}, {wantErr: ErrReplay}}},
		{"expires while in use", []step{{nc: "00000001"}, {nc: "00000002", advance: 40 * time.Second, wantErr: ErrStale}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			c := fromChallenge(t, h.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
			c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", regURI
			for i, s := range tt.steps {
				c.NC, c.QOP = s.nc, "auth"
				if s.nc == "" {
					c.QOP = ""
				}
				h.clock.Advance(s.advance)
				_, err := h.auth.Verify(context.Background(), c.answer(t, regURI), Options{})
				if !errors.Is(err, s.wantErr) || (err != nil && s.wantErr == nil) {
					t.Fatalf("step %d (nc %q): error %v, want %v", i, s.nc, err, s.wantErr)
				}
			}
		})
	}
}

func TestVerifyReplayTableBounded(t *testing.T) {
	const maxNonces = 64
	h := newHarness(t, func(c *Config) { c.MaxNonces = maxNonces })
	var first clientAuth
	for i := 0; i < 50*maxNonces; i++ {
		c := fromChallenge(t, h.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
		c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", regURI
		if i == 0 {
			first = c
		}
		if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), Options{}); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
		if n := h.auth.replay.len(); n > maxNonces {
			t.Fatalf("replay table holds %d nonces, max %d", n, maxNonces)
		}
		h.clock.Advance(time.Millisecond)
	}
	// The first nonce was evicted long ago, but is not expired: it must
	// not be replayable, only refused as stale.
	first.NC = "00000002"
	_, err := h.auth.Verify(context.Background(), first.answer(t, regURI), Options{})
	if !errors.Is(err, ErrStale) {
		t.Fatalf("evicted nonce: error %v, want ErrStale", err)
	}
}

func TestVerifyRestartRefusesOldNonces(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h1 := newHarness(t, func(c *Config) { c.Secret = secret })
	before := fromChallenge(t, h1.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")

	h1.clock.Advance(time.Second)
	h2 := newHarness(t, func(c *Config) { c.Secret = secret; c.Now = h1.clock.Now })
	after := fromChallenge(t, h1.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
	if before.Opaque != after.Opaque {
		t.Errorf("opaque differs across instances sharing a secret")
	}

	for _, tt := range []struct {
		name    string
		c       clientAuth
		wantErr error
	}{
		{"minted before restart", before, ErrStale},
		{"minted after restart", after, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", regURI
			_, err := h2.auth.Verify(context.Background(), c.answer(t, regURI), Options{})
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}

	// Another secret: the nonce is simply not ours.
	h3 := newHarness(t, func(c *Config) { c.Now = h1.clock.Now })
	c := after
	c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", regURI
	c.Opaque = h3.auth.opaque
	if _, err := h3.auth.Verify(context.Background(), c.answer(t, regURI), Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("foreign nonce: error %v, want ErrInvalid", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	c := fromChallenge(t, h.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
	c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", regURI
	req := c.answer(t, regURI)
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := h.auth.Verify(context.Background(), req, Options{})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrReplay):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent copies accepted, want exactly 1", ok)
	}
}

func TestNewConfigErrors(t *testing.T) {
	lookup := LookupFunc(nil)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no realm", Config{Lookup: lookup}, "realm is required"},
		{"realm with CRLF", Config{Realm: "a\r\nb", Lookup: lookup}, "control character"},
		{"no lookup", Config{Realm: "r"}, "lookup is required"},
		{"bad algorithm", Config{Realm: "r", Lookup: lookup, Algorithms: []string{"SHA-512"}}, "unsupported algorithm"},
		{"empty algorithms", Config{Realm: "r", Lookup: lookup, Algorithms: []string{}}, "empty algorithm list"},
		{"short secret", Config{Realm: "r", Lookup: lookup, Secret: []byte("short")}, "at least 16"},
		{"negative lifetime", Config{Realm: "r", Lookup: lookup, NonceLifetime: -time.Second}, "negative nonce lifetime"},
		{"negative max nonces", Config{Realm: "r", Lookup: lookup, MaxNonces: -1}, "negative max nonces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sipauth: ") {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Without StrictURI (gopbx's default, as Asterisk and Kamailio) a digest
// computed over another URI than the Request-URI is accepted; SIPp's is.
func TestVerifyLenientURI(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.StrictURI = false })
	c := fromChallenge(t, h.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
	c.Username, c.Password, c.Method, c.URI = "alice", "wonderland", "REGISTER", "sip:127.0.0.1:5060"
	c.NC, c.QOP = "00000001", "auth"
	if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), Options{}); err != nil {
		t.Fatalf("lenient uri: %v", err)
	}
	c.Password = "wrong"
	c.NC = "00000002"
	if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), Options{}); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password with other uri: %v", err)
	}
}

// TestVerifyOptionsCredentials: with Options.Credentials, Verify accepts
// only those (the guard passes the endpoint's), not what Lookup knows, and
// the error without credentials is still ErrNoCredentials.
func TestVerifyOptionsCredentials(t *testing.T) {
	h := newHarness(t, nil)
	c := fromChallenge(t, h.auth.Challenge(newRequest(t, "REGISTER", regURI), Options{}), "MD5")
	c.Username, c.Password, c.Method, c.URI, c.QOP = "alice", "wonderland", "REGISTER", regURI, "auth"

	c.NC = "00000001"
	only := Options{Credentials: []endpoint.Credential{{Username: "bob", Password: "builder"}}}
	if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), only); !IsFailed(err) {
		t.Fatalf("alice against bob's credentials: %v, want a failure", err)
	}
	c.NC = "00000002"
	mine := Options{Credentials: []endpoint.Credential{{Username: "bob", Password: "builder"}, {Username: "alice", Password: "wonderland"}}}
	if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), mine); err != nil {
		t.Fatalf("alice against her own credentials: %v", err)
	}
	c.NC = "00000003"
	wrong := Options{Credentials: []endpoint.Credential{{Username: "alice", Password: "other"}}}
	if _, err := h.auth.Verify(context.Background(), c.answer(t, regURI), wrong); !IsFailed(err) {
		t.Fatalf("a password Lookup would accept, not in Options: %v", err)
	}
	if _, err := h.auth.Verify(context.Background(), newRequest(t, "REGISTER", regURI), mine); !errors.Is(err, ErrNoCredentials) || err.Error() != "sipauth: no credentials: no Authorization header" {
		t.Fatalf("no Authorization: %v", err)
	}
}
