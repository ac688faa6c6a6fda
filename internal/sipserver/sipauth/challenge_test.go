package sipauth

import (
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestChallenge(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		opts       Options
		wantCode   int
		wantHeader string
		wantAlgs   []string
		wantStale  bool
		wantRealm  string
	}{
		{name: "register", method: "REGISTER", wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}},
		{name: "invite", method: "INVITE", wantCode: 407, wantHeader: "Proxy-Authenticate", wantAlgs: []string{"MD5"}},
		{name: "subscribe", method: "SUBSCRIBE", wantCode: 407, wantHeader: "Proxy-Authenticate", wantAlgs: []string{"MD5"}},
		{name: "invite forced www", method: "INVITE", opts: Options{Kind: KindWWW},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}},
		{name: "sha-256 first", method: "REGISTER", opts: Options{Algorithms: []string{"SHA-256", "MD5"}},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"SHA-256", "MD5"}},
		{name: "unknown and duplicate algorithms skipped", method: "REGISTER",
			opts:     Options{Algorithms: []string{"SHA-512", "md5", "MD5", "sha-256"}},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5", "SHA-256"}},
		{name: "only unknown algorithms fall back", method: "REGISTER", opts: Options{Algorithms: []string{"AKAv1-MD5"}},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}},
		{name: "stale", method: "REGISTER", opts: Options{Stale: true},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}, wantStale: true},
		{name: "realm override with quote", method: "REGISTER", opts: Options{Realm: `a"b\c`},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}, wantRealm: `a"b\c`},
		{name: "realm override with CRLF ignored", method: "REGISTER", opts: Options{Realm: "a\r\nX-Evil: 1"},
			wantCode: 401, wantHeader: "WWW-Authenticate", wantAlgs: []string{"MD5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			req := newRequest(t, tt.method, "sip:100@pbx.example.com")
			res := h.auth.Challenge(req, tt.opts)
			if res.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantCode)
			}
			to := res.To()
			if to == nil || to.Params.GetOr("tag", "") == "" {
				t.Errorf("no To tag in %q", res.String())
			}
			if res.CallID() == nil || res.CallID().Value() != req.CallID().Value() {
				t.Errorf("Call-ID not copied")
			}
			if res.CSeq() == nil || res.CSeq().Value() != req.CSeq().Value() {
				t.Errorf("CSeq not copied")
			}
			other := "Proxy-Authenticate"
			if tt.wantHeader == other {
				other = "WWW-Authenticate"
			}
			if hs := res.GetHeaders(other); len(hs) != 0 {
				t.Errorf("unexpected %s headers: %v", other, hs)
			}
			// The response must survive a trip through the wire format.
			msg, err := sip.ParseMessage([]byte(res.String()))
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, res)
			}
			hs := msg.(*sip.Response).GetHeaders(tt.wantHeader)
			var algs []string
			var nonce string
			wantRealm := tt.wantRealm
			if wantRealm == "" {
				wantRealm = testRealm
			}
			for _, hdr := range hs {
				v := hdr.Value()
				c, err := ParseAuthorization(v)
				if err != nil {
					t.Fatalf("parse %q: %v", v, err)
				}
				algs = append(algs, c.Algorithm)
				if c.Realm != wantRealm {
					t.Errorf("realm %q, want %q", c.Realm, wantRealm)
				}
				if nonce == "" {
					nonce = c.Nonce
				} else if c.Nonce != nonce {
					t.Errorf("headers carry different nonces")
				}
				if len(c.Nonce) != nonceLen || c.Opaque != h.auth.opaque || c.QOP != "auth" {
					t.Errorf("bad challenge %q", v)
				}
				if got := strings.Contains(v, "stale=true"); got != tt.wantStale {
					t.Errorf("stale in %q = %v, want %v", v, got, tt.wantStale)
				}
			}
			if !slices.Equal(algs, tt.wantAlgs) {
				t.Errorf("algorithms %q, want %q", algs, tt.wantAlgs)
			}
		})
	}
}

func TestChallengeKeepsExistingToTag(t *testing.T) {
	h := newHarness(t, nil)
	req := newRequest(t, "INVITE", "sip:100@pbx.example.com")
	req.To().Params.Add("tag", "dialog-tag")
	res := h.auth.Challenge(req, Options{})
	if got := res.To().Params.GetOr("tag", ""); got != "dialog-tag" {
		t.Errorf("To tag %q, want the in-dialog tag kept", got)
	}
}

func TestChallengeNoncesDiffer(t *testing.T) {
	h := newHarness(t, nil)
	req := newRequest(t, "REGISTER", regURI)
	seen := map[string]bool{}
	for range 100 {
		c := fromChallenge(t, h.auth.Challenge(req, Options{}), "MD5")
		if seen[c.Nonce] {
			t.Fatalf("nonce %q issued twice", c.Nonce)
		}
		seen[c.Nonce] = true
	}
}
