package sipauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
)

// A nonce is base64url (no padding) of 32 bytes:
//
//	[0:8]   issue time, Unix nanoseconds, big endian
//	[8:16]  random
//	[16:32] HMAC-SHA-256(secret, "nonce" | [0:16] | realm), truncated
//
// so it can be checked without state, binds its realm, and its MAC is a
// unique key for the replay table.
const (
	nonceRawLen = 32
	nonceLen    = 43 // base64.RawURLEncoding.EncodedLen(nonceRawLen)
	nonceMACLen = 16
)

// macKey is an HMAC-SHA-256 key with its pads precomputed, so that a MAC is
// two sha256.Sum256 calls over stack buffers and allocates nothing.
type macKey struct {
	ipad, opad [sha256.BlockSize]byte
}

func newMACKey(secret []byte) macKey {
	var k macKey
	key := secret
	if len(key) > sha256.BlockSize {
		s := sha256.Sum256(key)
		key = s[:]
	}
	copy(k.ipad[:], key)
	copy(k.opad[:], key)
	for i := range k.ipad {
		k.ipad[i] ^= 0x36
		k.opad[i] ^= 0x5c
	}
	return k
}

// sum returns HMAC-SHA-256(key, label | a | b).
func (k *macKey) sum(label string, a []byte, b string) [sha256.Size]byte {
	var buf [sha256.BlockSize + 256]byte
	in := append(buf[:0], k.ipad[:]...)
	in = append(in, label...)
	in = append(in, a...)
	in = append(in, b...)
	inner := sha256.Sum256(in)
	var obuf [sha256.BlockSize + sha256.Size]byte
	copy(obuf[:], k.opad[:])
	copy(obuf[sha256.BlockSize:], inner[:])
	return sha256.Sum256(obuf[:])
}

// opaque is the opaque value of every challenge: constant per secret, so
// instances sharing a secret agree on it.
func (k *macKey) opaque() string {
	m := k.sum("opaque", nil, "")
	return base64.RawURLEncoding.EncodeToString(m[:12])
}

// newNonce mints a nonce for realm issued at now (Unix ns).
func (k *macKey) newNonce(realm string, now int64) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now))
	rand.Read(raw[8:16])
	m := k.sum("nonce", raw[:16], realm)
	copy(raw[16:], m[:nonceMACLen])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// nonceKey identifies a nonce in the replay table.
type nonceKey [nonceMACLen]byte

// checkNonce verifies that s is a nonce we minted for realm, and returns its
// issue time and replay key.
func (k *macKey) checkNonce(s, realm string) (issued int64, key nonceKey, ok bool) {
	var raw [nonceRawLen]byte
	if !decodeNonce(&raw, s) {
		return 0, key, false
	}
	m := k.sum("nonce", raw[:16], realm)
	if subtle.ConstantTimeCompare(m[:nonceMACLen], raw[16:]) != 1 {
		return 0, key, false
	}
	copy(key[:], raw[16:])
	return int64(binary.BigEndian.Uint64(raw[0:8])), key, true
}

// decodeNonce decodes canonical unpadded base64url of exactly nonceRawLen
// bytes without allocating.
func decodeNonce(dst *[nonceRawLen]byte, s string) bool {
	if len(s) != nonceLen {
		return false
	}
	var acc uint32
	bits, j := 0, 0
	for i := 0; i < len(s); i++ {
		v, ok := b64val(s[i])
		if !ok {
			return false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[j] = byte(acc >> bits)
			j++
		}
	}
	// The leftover bits must be zero for the encoding to be canonical.
	return j == nonceRawLen && acc&(1<<bits-1) == 0
}

func b64val(c byte) (byte, bool) {
	v := b64Decode[c]
	return v, v != 0xff
}

// b64Decode maps base64url characters to their values and the rest to 0xff.
// It is a read-only lookup table, filled once.
var b64Decode = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()
