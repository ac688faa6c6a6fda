package sipauth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
)

const testRealm = "pbx.example.com"

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	clock *fakeClock
	auth  *Authenticator
	users map[string][]endpoint.Credential
}

func testUsers() map[string][]endpoint.Credential {
	return map[string][]endpoint.Credential{
		"alice": {{Username: "alice", Password: "wonderland"}},
		"bob":   {{Username: "bob", Password: "builder", Algorithms: []string{"SHA-256", "MD5"}}},
		"carol": {{Username: "carol", HA1: ""}}, // filled by newHarness
		"dave":  {{Username: "dave", Password: "old"}, {Username: "dave", Password: "new", Realm: testRealm}},
		"erin":  {{Username: "erin", Password: "elsewhere", Realm: "other.example.com"}},
		"sha":   {{Username: "sha", Password: "only", Algorithms: []string{"SHA-256"}}},
	}
}

// newHarness builds an Authenticator over testUsers with a fake clock;
// mod may adjust the config.
func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{
		clock: &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		users: testUsers(),
	}
	h.users["carol"][0].HA1 = strings.ToUpper(string(computeHA1(nil, MD5, "carol", testRealm, "hashed")))
	cfg := Config{
		Realm: testRealm,
		Lookup: LookupFunc(func(_ context.Context, user string) ([]endpoint.Credential, bool) {
			c, ok := h.users[user]
			return c, ok
		}),
		Now:       h.clock.Now,
		StrictURI: true,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.auth = a
	return h
}

// newRequest parses a request, with extra header lines appended, the way
// sipgo's transport layer would.
func newRequest(t testing.TB, method, ruri string, extra ...string) *sip.Request {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	b.WriteString("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <sip:alice@pbx.example.com>;tag=a73kszlfl\r\n")
	if method == "REGISTER" {
		b.WriteString("To: <sip:alice@pbx.example.com>\r\n")
	} else {
		b.WriteString("To: <sip:100@pbx.example.com>\r\n")
	}
	b.WriteString("Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n")
	fmt.Fprintf(&b, "CSeq: 2 %s\r\n", method)
	b.WriteString("Contact: <sip:alice@192.0.2.10:5060>\r\n")
	for _, h := range extra {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	msg, err := sip.ParseMessage([]byte(b.String()))
	if err != nil {
		t.Fatalf("parse request: %v\n%s", err, b.String())
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parsed %T, want request", msg)
	}
	return req
}

// clientAuth is the client side of one digest answer.
type clientAuth struct {
	Header                                     string // Authorization or Proxy-Authorization
	Username, Password                         string
	Realm, Nonce, Opaque, Algorithm            string
	Method, URI, QOP, NC, CNonce               string
	Response                                   string // computed when empty
	Extra                                      string // appended raw parameters
	SkipOpaque, SkipAlgorithm, QuoteEverything bool
}

// fromChallenge takes realm, nonce and opaque from the challenge header of res
// offering alg, and defaults the rest to a qop=auth, nc=1 answer.
func fromChallenge(t testing.TB, res *sip.Response, alg string) clientAuth {
	t.Helper()
	name, header := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name, header = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(name) {
		c, err := ParseAuthorization(h.Value()) // same grammar as a challenge
		if err != nil {
			t.Fatalf("parse challenge %q: %v", h.Value(), err)
		}
		if !strings.EqualFold(c.Algorithm, alg) {
			continue
		}
		return clientAuth{
			Header: header, Realm: c.Realm, Nonce: c.Nonce, Opaque: c.Opaque, Algorithm: c.Algorithm,
			QOP: "auth", NC: "00000001", CNonce: "0a4f113b",
		}
	}
	t.Fatalf("no %s challenge for %s in\n%s", name, alg, res)
	return clientAuth{}
}

func (c clientAuth) value() string {
	resp := c.Response
	if resp == "" {
		resp = refDigest(c.Algorithm, c.Username, c.Realm, c.Password, c.Method, c.URI, c.Nonce, c.NC, c.CNonce, c.QOP)
	}
	q := func(s string) string { return `"` + s + `"` }
	tok := func(s string) string {
		if c.QuoteEverything {
			return q(s)
		}
		return s
	}
	p := []string{
		"username=" + q(c.Username), "realm=" + q(c.Realm), "nonce=" + q(c.Nonce),
		"uri=" + q(c.URI), "response=" + q(resp),
	}
	if !c.SkipAlgorithm {
		p = append(p, "algorithm="+tok(c.Algorithm))
	}
	if c.QOP != "" {
		p = append(p, "qop="+tok(c.QOP), "nc="+tok(c.NC), "cnonce="+q(c.CNonce))
	}
	if !c.SkipOpaque {
		p = append(p, "opaque="+q(c.Opaque))
	}
	if c.Extra != "" {
		p = append(p, c.Extra)
	}
	return "Digest " + strings.Join(p, ", ")
}

// line is the header line carrying the answer.
func (c clientAuth) line() string { return c.Header + ": " + c.value() }

// answer builds the retried request carrying c, by default for ruri.
func (c clientAuth) answer(t testing.TB, ruri string, extra ...string) *sip.Request {
	t.Helper()
	if c.URI == "" {
		c.URI = ruri
	}
	return newRequest(t, c.Method, ruri, append(extra, c.line())...)
}
