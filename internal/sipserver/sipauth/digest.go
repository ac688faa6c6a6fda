package sipauth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// Algorithm is a digest algorithm (RFC 7616 §3.3, RFC 8760).
type Algorithm uint8

// Supported algorithms.
const (
	MD5 Algorithm = iota + 1
	MD5Sess
	SHA256
	SHA256Sess
)

// String returns the algorithm's token, e.g. "SHA-256-sess".
func (a Algorithm) String() string {
	switch a {
	case MD5:
		return "MD5"
	case MD5Sess:
		return "MD5-sess"
	case SHA256:
		return "SHA-256"
	case SHA256Sess:
		return "SHA-256-sess"
	}
	return "unknown"
}

// ParseAlgorithm parses an algorithm token case-insensitively. The empty
// string is MD5 (RFC 2617 §3.2.1).
func ParseAlgorithm(s string) (Algorithm, bool) {
	switch {
	case s == "" || strings.EqualFold(s, "MD5"):
		return MD5, true
	case strings.EqualFold(s, "SHA-256"):
		return SHA256, true
	case strings.EqualFold(s, "MD5-sess"):
		return MD5Sess, true
	case strings.EqualFold(s, "SHA-256-sess"):
		return SHA256Sess, true
	}
	return 0, false
}

func (a Algorithm) base() Algorithm {
	switch a {
	case MD5Sess:
		return MD5
	case SHA256Sess:
		return SHA256
	}
	return a
}

func (a Algorithm) sess() bool { return a == MD5Sess || a == SHA256Sess }

// size is the length of the raw hash.
func (a Algorithm) size() int {
	if a.base() == SHA256 {
		return sha256.Size
	}
	return md5.Size
}

// allows reports whether c may be used with alg: it must be listed in
// c.Algorithms (empty meaning MD5; "X" also allows "X-sess"), and a
// credential with only an HA1 is MD5 only.
func allows(c *endpoint.Credential, alg Algorithm) bool {
	if c.Password == "" && alg.base() != MD5 {
		return false
	}
	if len(c.Algorithms) == 0 {
		return alg.base() == MD5
	}
	for _, s := range c.Algorithms {
		if a, ok := ParseAlgorithm(s); ok && (a == alg || a == alg.base()) {
			return true
		}
	}
	return false
}

// ChallengeAlgorithms returns the algorithms to challenge an endpoint with,
// given its credentials: those some credential allows, SHA-256 first
// (RFC 8760 §2.4). HA1-only credentials contribute MD5 only, so an endpoint
// with an md5secret is never challenged with SHA-256 alone. Nil (the
// Authenticator's default) is returned for no credentials. The slice is
// shared: callers must not modify it.
func ChallengeAlgorithms(creds []endpoint.Credential) []string {
	var sha, md bool
	for i := range creds {
		c := &creds[i]
		sha = sha || allows(c, SHA256)
		md = md || allows(c, MD5)
	}
	switch {
	case sha && md:
		return challengeBoth
	case sha:
		return challengeSHA256
	case md:
		return challengeMD5
	}
	return nil
}

// ChallengeAlgorithms' answers, shared (callers only read them): a slice
// per challenge was an allocation per unauthenticated REGISTER.
var (
	challengeBoth   = []string{"SHA-256", "MD5"}
	challengeSHA256 = []string{"SHA-256"}
	challengeMD5    = []string{"MD5"}
)

// hashHex appends the lowercase hex hash of data to dst.
func hashHex(alg Algorithm, dst, data []byte) []byte {
	if alg.base() == SHA256 {
		s := sha256.Sum256(data)
		return hex.AppendEncode(dst, s[:])
	}
	s := md5.Sum(data)
	return hex.AppendEncode(dst, s[:])
}

// hashRaw stores the raw hash of data into out and returns its length.
func hashRaw(alg Algorithm, out *[32]byte, data []byte) int {
	if alg.base() == SHA256 {
		*out = sha256.Sum256(data)
		return sha256.Size
	}
	s := md5.Sum(data)
	copy(out[:], s[:])
	return md5.Size
}

// computeHA1 appends H(username:realm:password) in hex to dst (RFC 7616
// §3.4.2; the -sess step is applied by computeResponse).
func computeHA1(dst []byte, alg Algorithm, username, realm, password string) []byte {
	var buf [256]byte
	b := append(buf[:0], username...)
	b = append(b, ':')
	b = append(b, realm...)
	b = append(b, ':')
	b = append(b, password...)
	return hashHex(alg, dst, b)
}

// digestInput is what the request-digest covers besides HA1.
type digestInput struct {
	Method, URI   string
	Nonce, CNonce string
	NC, QOP       string // both empty for RFC 2069 style
}

// computeResponse computes the raw request-digest (RFC 7616 §3.4.1, RFC
// 2617 §3.2.2) from the hex HA1 (H(user:realm:password), before any -sess
// step) into out and returns its length.
func computeResponse(out *[32]byte, alg Algorithm, ha1 []byte, in *digestInput) int {
	var buf [512]byte
	var sessBuf [64]byte
	if alg.sess() {
		b := append(buf[:0], ha1...)
		b = append(b, ':')
		b = append(b, in.Nonce...)
		b = append(b, ':')
		b = append(b, in.CNonce...)
		ha1 = hashHex(alg, sessBuf[:0], b)
	}
	var ha2Buf [64]byte
	b := append(buf[:0], in.Method...)
	b = append(b, ':')
	b = append(b, in.URI...)
	ha2 := hashHex(alg, ha2Buf[:0], b)

	b = append(buf[:0], ha1...)
	b = append(b, ':')
	b = append(b, in.Nonce...)
	if in.QOP != "" {
		b = append(b, ':')
		b = append(b, in.NC...)
		b = append(b, ':')
		b = append(b, in.CNonce...)
		b = append(b, ':')
		b = append(b, in.QOP...)
	}
	b = append(b, ':')
	b = append(b, ha2...)
	return hashRaw(alg, out, b)
}

// normalizeHA1 copies a stored hex HA1 into dst in lowercase, or returns
// false if it is not size hex digits.
func normalizeHA1(dst *[64]byte, s string, size int) ([]byte, bool) {
	if len(s) != 2*size {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			c += 'a' - 'A'
		default:
			return nil, false
		}
		dst[i] = c
	}
	return dst[:len(s)], true
}

// decodeHex decodes s into dst, which must be exactly len(s)/2 bytes.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	v := hexDecode[c]
	return v, v != 0xff
}

// hexDecode maps hex digits (either case) to their values and the rest to
// 0xff. It is a read-only lookup table, filled once.
var hexDecode = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i] = 10 + i
		t['A'+i] = 10 + i
	}
	return t
}()
