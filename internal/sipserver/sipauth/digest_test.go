package sipauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// refDigest is a straightforward client-side request-digest, written
// independently of computeResponse to cross-check it.
func refDigest(alg, user, realm, pass, method, uri, nonce, nc, cnonce, qop string) string {
	var newHash func() hash.Hash
	alg = strings.ToUpper(alg)
	switch strings.TrimSuffix(alg, "-SESS") {
	case "", "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		panic("refDigest: algorithm " + alg)
	}
	h := func(parts ...string) string {
		d := newHash()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	ha1 := h(user, realm, pass)
	if strings.HasSuffix(alg, "-SESS") {
		ha1 = h(ha1, nonce, cnonce)
	}
	ha2 := h(method, uri)
	if qop == "" {
		return h(ha1, nonce, ha2)
	}
	return h(ha1, nonce, nc, cnonce, qop, ha2)
}

func TestComputeResponse(t *testing.T) {
	const (
		// RFC 7616 §3.9.1
		nonce7616  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce7616 = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
		realm7616  = "http-auth@example.org"
		// RFC 2617 §3.5
		nonce2617 = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
		realm2617 = "testrealm@host.com"
	)
	tests := []struct {
		name                   string
		alg                    Algorithm
		user, realm, pass      string
		method, uri            string
		nonce, cnonce, nc, qop string
		want                   string // empty: refDigest
	}{
		{"rfc7616 MD5", MD5, "Mufasa", realm7616, "Circle of Life", "GET", "/dir/index.html",
			nonce7616, cnonce7616, "00000001", "auth", "8ca523f5e9506fed4657c9700eebdbec"},
		{"rfc7616 SHA-256", SHA256, "Mufasa", realm7616, "Circle of Life", "GET", "/dir/index.html",
			nonce7616, cnonce7616, "00000001", "auth", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"rfc2617", MD5, "Mufasa", realm2617, "Circle Of Life", "GET", "/dir/index.html",
			nonce2617, "0a4f113b", "00000001", "auth", "6629fae49393a05397450978507c4ef1"},
		{"no qop", MD5, "Mufasa", realm2617, "Circle Of Life", "GET", "/dir/index.html",
			nonce2617, "", "", "", ""},
		{"MD5-sess", MD5Sess, "alice", "pbx", "s3cret", "REGISTER", "sip:pbx.example.com",
			nonce7616, cnonce7616, "0000000a", "auth", ""},
		{"SHA-256-sess", SHA256Sess, "alice", "pbx", "s3cret", "INVITE", "sip:100@pbx.example.com",
			nonce7616, cnonce7616, "00000002", "auth", ""},
		{"SHA-256 no qop", SHA256, "alice", "pbx", "s3cret", "INVITE", "sip:100@pbx.example.com",
			nonce7616, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = refDigest(tt.alg.String(), tt.user, tt.realm, tt.pass, tt.method, tt.uri, tt.nonce, tt.nc, tt.cnonce, tt.qop)
			}
			ha1 := computeHA1(nil, tt.alg, tt.user, tt.realm, tt.pass)
			var out [32]byte
			n := computeResponse(&out, tt.alg, ha1, &digestInput{
				Method: tt.method, URI: tt.uri, Nonce: tt.nonce, CNonce: tt.cnonce, NC: tt.nc, QOP: tt.qop,
			})
			if got := hex.EncodeToString(out[:n]); got != want {
				t.Errorf("response = %s, want %s", got, want)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want Algorithm
		ok   bool
	}{
		{"", MD5, true},
		{"md5", MD5, true},
		{"MD5-Sess", MD5Sess, true},
		{"sha-256", SHA256, true},
		{"SHA-256-sess", SHA256Sess, true},
		{"SHA-512-256", 0, false},
		{"AKAv1-MD5", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseAlgorithm(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && !strings.EqualFold(got.String(), tt.in) && tt.in != "" {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestChallengeAlgorithms(t *testing.T) {
	pw := func(algs ...string) endpoint.Credential {
		return endpoint.Credential{Username: "u", Password: "p", Algorithms: algs}
	}
	ha1 := func(algs ...string) endpoint.Credential {
		return endpoint.Credential{Username: "u", HA1: strings.Repeat("a", 32), Algorithms: algs}
	}
	tests := []struct {
		name  string
		creds []endpoint.Credential
		want  []string
	}{
		{"none", nil, nil},
		{"password default", []endpoint.Credential{pw()}, []string{"MD5"}},
		{"password both", []endpoint.Credential{pw("MD5", "SHA-256")}, []string{"SHA-256", "MD5"}},
		{"password sha only", []endpoint.Credential{pw("SHA-256")}, []string{"SHA-256"}},
		{"ha1 asks sha", []endpoint.Credential{ha1("SHA-256", "MD5")}, []string{"MD5"}},
		{"ha1 sha only", []endpoint.Credential{ha1("SHA-256")}, nil},
		{"mixed", []endpoint.Credential{ha1(), pw("SHA-256")}, []string{"SHA-256", "MD5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChallengeAlgorithms(tt.creds); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMACMatchesCryptoHMAC(t *testing.T) {
	for _, n := range []int{16, 32, 64, 65, 200} {
		secret := make([]byte, n)
		for i := range secret {
			secret[i] = byte(i*7 + n)
		}
		k := newMACKey(secret)
		got := k.sum("nonce", []byte("0123456789abcdef"), "realm.example")
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("nonce0123456789abcdefrealm.example"))
		if want := m.Sum(nil); !slices.Equal(got[:], want) {
			t.Errorf("secret len %d: mac %x, want %x", n, got, want)
		}
	}
}

func TestDecodeNonce(t *testing.T) {
	raw := make([]byte, nonceRawLen)
	for i := range raw {
		raw[i] = byte(255 - i*3)
	}
	enc := base64.RawURLEncoding.EncodeToString(raw)
	var got [nonceRawLen]byte
	if !decodeNonce(&got, enc) || !slices.Equal(got[:], raw) {
		t.Fatalf("decodeNonce(%q) = %x, want %x", enc, got, raw)
	}
	last := enc[len(enc)-1]
	nonCanonical := enc[:len(enc)-1] + string(last+1) // low bits set
	for _, bad := range []string{"", enc[1:], enc + "A", strings.Replace(enc, enc[:1], "+", 1), nonCanonical} {
		if decodeNonce(&got, bad) {
			t.Errorf("decodeNonce(%q) succeeded", bad)
		}
	}
}
