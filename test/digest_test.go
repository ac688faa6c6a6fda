package test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/test/harness"
)

// digestConf has 4000 (SHA-256 preferred, MD5 allowed) and 4001 (MD5 only).
func digestConf(ip string) string {
	return fmt.Sprintf(`[transport-udp]
type=transport
protocol=udp
bind=%s:5060

[4000]
type=endpoint
context=default
auth=4000
aors=4000
[4000]
type=auth
auth_type=userpass
username=4000
password=sha-secret
supported_algorithms_uas=SHA-256,MD5
[4000]
type=aor
max_contacts=2

[4001]
type=endpoint
context=default
auth=4001
aors=4001
[4001]
type=auth
auth_type=userpass
username=4001
password=md5-secret
[4001]
type=aor
max_contacts=2
`, ip)
}

type challenge struct{ realm, nonce, opaque, algorithm string }

func parseChallenges(res string) []challenge {
	var out []challenge
	for _, v := range siptest.Headers(res, "WWW-Authenticate") {
		c := challenge{algorithm: "MD5"}
		for _, part := range strings.Split(strings.TrimPrefix(v, "Digest "), ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			val = strings.Trim(val, `"`)
			switch strings.ToLower(k) {
			case "realm":
				c.realm = val
			case "nonce":
				c.nonce = val
			case "opaque":
				c.opaque = val
			case "algorithm":
				c.algorithm = val
			}
		}
		out = append(out, c)
	}
	return out
}

func register(aor, local, pbx, callID string, cseq int, auth string) string {
	return fmt.Sprintf("REGISTER sip:%[3]s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK%[6]s\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:%[1]s@%[3]s>;tag=%[6]s\r\nTo: <sip:%[1]s@%[3]s>\r\n"+
		"Call-ID: %[4]s\r\nCSeq: %[5]d REGISTER\r\nContact: <sip:%[1]s@{local}>\r\nExpires: 120\r\n%[7]s"+
		"Content-Length: 0\r\n\r\n", aor, local, pbx, callID, cseq, siptest.Unique(), auth)
}

func authorization(c challenge, user, pass, uri, nc string) string {
	var h func() hash.Hash = md5.New
	if c.algorithm == "SHA-256" {
		h = sha256.New
	}
	sum := func(s string) string { x := h(); x.Write([]byte(s)); return hex.EncodeToString(x.Sum(nil)) }
	cnonce := "c0ffee"
	ha1 := sum(user + ":" + c.realm + ":" + pass)
	ha2 := sum("REGISTER:" + uri)
	resp := sum(ha1 + ":" + c.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s", opaque="%s"`+"\r\n",
		user, c.realm, c.nonce, uri, resp, c.algorithm, nc, cnonce, c.opaque)
}

// SHA-256 digest (RFC 7616/8760) end to end, plus nonce-count replay
// protection: a captured Authorization cannot be sent again.
func TestDigestSHA256AndReplay(t *testing.T) {
	t.Parallel()
	ip := harness.IP(t, "127.0.63.1")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: map[string]string{"pjsip.conf": digestConf(ip)}})
	c := siptest.DialUDP(t, harness.IP(t, "127.0.63.2")+":0", pbx.Addr())
	uri := "sip:" + pbx.Addr()

	res := c.Exchange(register("4000", c.Addr(), pbx.Addr(), "sha-1", 1, ""))
	if siptest.Status(res) != "SIP/2.0 401 Unauthorized" {
		t.Fatalf("first REGISTER: %s", res)
	}
	chs := parseChallenges(res)
	if len(chs) != 2 || chs[0].algorithm != "SHA-256" || chs[1].algorithm != "MD5" {
		t.Fatalf("want SHA-256 then MD5 challenges (RFC 8760 order), got %+v", chs)
	}
	sha := chs[0]
	auth := authorization(sha, "4000", "sha-secret", uri, "00000001")
	if res := c.Exchange(register("4000", c.Addr(), pbx.Addr(), "sha-1", 2, auth)); siptest.Status(res) != "SIP/2.0 200 OK" {
		t.Fatalf("SHA-256 REGISTER: %s", res)
	}
	// The same Authorization again (new transaction, same nc): refused.
	res = c.Exchange(register("4000", c.Addr(), pbx.Addr(), "sha-1", 3, auth))
	if siptest.Status(res) != "SIP/2.0 401 Unauthorized" || !strings.Contains(siptest.Header(res, "WWW-Authenticate"), "stale=true") {
		t.Fatalf("replayed nonce-count was not refused with stale=true: %s", res)
	}
	// The next nonce-count on the same nonce is fine.
	auth2 := authorization(sha, "4000", "sha-secret", uri, "00000002")
	if res := c.Exchange(register("4000", c.Addr(), pbx.Addr(), "sha-1", 4, auth2)); siptest.Status(res) != "SIP/2.0 200 OK" {
		t.Fatalf("nc=2: %s", res)
	}
	// Wrong password: 403, and the same 403 for a user that does not exist.
	bad := authorization(sha, "4000", "wrong", uri, "00000003")
	wrong := c.Exchange(register("4000", c.Addr(), pbx.Addr(), "sha-1", 5, bad))
	res = c.Exchange(register("4999", c.Addr(), pbx.Addr(), "x-1", 1, ""))
	ghost := parseChallenges(res)
	if siptest.Status(res) != "SIP/2.0 401 Unauthorized" || len(ghost) == 0 {
		t.Fatalf("unknown user was not challenged like a real one: %s", res)
	}
	unknown := c.Exchange(register("4999", c.Addr(), pbx.Addr(), "x-1", 2, authorization(ghost[0], "4999", "wrong", uri, "00000001")))
	if siptest.Status(wrong) != "SIP/2.0 403 Forbidden" || siptest.Status(unknown) != siptest.Status(wrong) {
		t.Fatalf("wrong password %q vs unknown user %q: must be the same 403", siptest.Status(wrong), siptest.Status(unknown))
	}

	// An MD5-only endpoint is challenged with MD5 only.
	res = c.Exchange(register("4001", c.Addr(), pbx.Addr(), "md5-1", 1, ""))
	chs = parseChallenges(res)
	if len(chs) != 1 || chs[0].algorithm != "MD5" {
		t.Fatalf("MD5 endpoint challenges: %+v", chs)
	}
	if res := c.Exchange(register("4001", c.Addr(), pbx.Addr(), "md5-1", 2, authorization(chs[0], "4001", "md5-secret", uri, "00000001"))); siptest.Status(res) != "SIP/2.0 200 OK" {
		t.Fatalf("MD5 REGISTER: %s", res)
	}
	out := pbx.Console(t, "pjsip show contacts")
	if !strings.Contains(out, "4000/sip:4000@"+c.Addr()) || !strings.Contains(out, "4001/sip:4001@"+c.Addr()) {
		t.Fatalf("contacts missing:\n%s", out)
	}
}
