package sipauth

import (
	"context"
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// TestVerifyIcholyDigestClient answers our challenges with
// github.com/icholy/digest, the library sipgo's client uses, the way sipgo's
// digestAuthApply does, and checks that we accept its answers.
func TestVerifyIcholyDigestClient(t *testing.T) {
	tests := []struct {
		name, method, ruri, alg, user, pass string
		opts                                Options
	}{
		{"register MD5", "REGISTER", regURI, "MD5", "alice", "wonderland", Options{}},
		{"register SHA-256", "REGISTER", regURI, "SHA-256", "bob", "builder", Options{Algorithms: []string{"SHA-256", "MD5"}}},
		{"invite MD5", "INVITE", "sip:100@pbx.example.com;user=phone", "MD5", "alice", "wonderland", Options{}},
		{"invite SHA-256", "INVITE", "sip:100@pbx.example.com", "SHA-256", "bob", "builder", Options{Algorithms: []string{"SHA-256"}}},
		{"HA1 credential", "REGISTER", regURI, "MD5", "carol", "hashed", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			res := h.auth.Challenge(newRequest(t, tt.method, tt.ruri), tt.opts)
			chalName, credName := "WWW-Authenticate", "Authorization"
			if res.StatusCode == sip.StatusProxyAuthRequired {
				chalName, credName = "Proxy-Authenticate", "Proxy-Authorization"
			}
			var chal *digest.Challenge
			for _, hdr := range res.GetHeaders(chalName) {
				c, err := digest.ParseChallenge(hdr.Value())
				if err != nil {
					t.Fatalf("icholy cannot parse our challenge %q: %v", hdr.Value(), err)
				}
				if c.Algorithm == tt.alg {
					chal = c
				}
			}
			if chal == nil {
				t.Fatalf("no %s challenge in\n%s", tt.alg, res)
			}
			answer := func(count int) *sip.Request {
				cred, err := digest.Digest(chal, digest.Options{
					Method: tt.method, URI: tt.ruri, Username: tt.user, Password: tt.pass, Count: count,
				})
				if err != nil {
					t.Fatalf("digest.Digest: %v", err)
				}
				return newRequest(t, tt.method, tt.ruri, credName+": "+cred.String())
			}
			for _, s := range []struct {
				count   int
				wantErr error
			}{{1, nil}, {2, nil}, {2, ErrReplay}, {3, nil}} {
				got, err := h.auth.Verify(context.Background(), answer(s.count), tt.opts)
				if !errors.Is(err, s.wantErr) || (err != nil && s.wantErr == nil) {
					t.Fatalf("count %d: error %v, want %v", s.count, err, s.wantErr)
				}
				if err == nil && (got.Username != tt.user || got.Algorithm != tt.alg) {
					t.Errorf("count %d: result %+v", s.count, got)
				}
			}
		})
	}
}
