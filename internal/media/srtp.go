package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// ErrSRTP means the offer and the endpoint disagree on encryption (488).
var ErrSRTP = errors.New("media: srtp mismatch")

// The SDES suites we take, strongest first (RFC 4568 §6.2).
var suites = []struct {
	name    string
	profile srtp.ProtectionProfile
}{
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32},
}

// sdes is one a=crypto line: tag, suite, 16-byte key and 14-byte salt.
type sdes struct {
	tag     int
	suite   string
	profile srtp.ProtectionProfile
	key     []byte // key || salt
}

// parseCrypto reads "1 AES_CM_128_HMAC_SHA1_80 inline:KEYSALT[|lifetime][|MKI:len]".
func parseCrypto(v string) (sdes, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return sdes{}, fmt.Errorf("%w: crypto %q", ErrSRTP, v)
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil {
		return sdes{}, fmt.Errorf("%w: crypto tag %q", ErrSRTP, f[0])
	}
	c := sdes{tag: tag, suite: f[1]}
	ok := false
	for _, s := range suites {
		if strings.EqualFold(s.name, f[1]) {
			c.profile, ok = s.profile, true
		}
	}
	if !ok {
		return sdes{}, fmt.Errorf("%w: suite %s not supported", ErrSRTP, f[1])
	}
	params, found := strings.CutPrefix(f[2], "inline:")
	if !found {
		return sdes{}, fmt.Errorf("%w: key method in %q", ErrSRTP, f[2])
	}
	b64, _, _ := strings.Cut(params, "|")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return sdes{}, fmt.Errorf("%w: key encoding: %v", ErrSRTP, err)
		}
	}
	if len(key) != 30 {
		return sdes{}, fmt.Errorf("%w: key is %d bytes, want 30", ErrSRTP, len(key))
	}
	c.key = key
	return c, nil
}

// pickCrypto returns the first offered line we support.
func pickCrypto(lines []string) (sdes, error) {
	var last error = fmt.Errorf("%w: no a=crypto line", ErrSRTP)
	for _, l := range lines {
		c, err := parseCrypto(l)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return sdes{}, last
}

// newSDES makes our key for a suite.
func newSDES(tag int, suite string, profile srtp.ProtectionProfile) (sdes, error) {
	key := make([]byte, 30)
	if _, err := rand.Read(key); err != nil {
		return sdes{}, fmt.Errorf("media: srtp key: %w", err)
	}
	return sdes{tag: tag, suite: suite, profile: profile, key: key}, nil
}

func (c sdes) line() string {
	return strconv.Itoa(c.tag) + " " + c.suite + " inline:" + base64.StdEncoding.EncodeToString(c.key)
}

func (c sdes) context() (*srtp.Context, error) {
	ctx, err := srtp.CreateContext(c.key[:16], c.key[16:], c.profile)
	if err != nil {
		return nil, fmt.Errorf("media: srtp context: %w", err)
	}
	return ctx, nil
}

// keySRTP installs remote (decrypt) and local (encrypt) keys.
func (s *Stream) keySRTP(remote, local sdes) error {
	in, err := remote.context()
	if err != nil {
		return err
	}
	out, err := local.context()
	if err != nil {
		return err
	}
	s.sess.SetSRTP(in, out)
	return nil
}
