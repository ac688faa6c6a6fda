package test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Trunks with real peers: SIPp plays the provider (registrar, the far end
// of outbound calls, the source of DID calls) and the phones. The tests
// share 127.0.0.131-139 and run one after the other as subtests of
// TestTrunk: gopbx on .131 (and a second gopbx on .135), providers on .132
// and .133, phones on .134 and .136.

// trunkNet is the addresses of the trunk tests.
type trunkNet struct{ pbx, prov1, prov2, phone, pbxB, phoneB string }

const (
	trunkPhonePassword = "phone-secret"
	trunkSIPConf       = `[general]
bindaddr=%[1]s
useragent=gopbx-trunk-test
%[6]s

; The provider: identified by its address, its calls need no
; authentication; towards it gopbx is acct1 at provider.example.
[provider]
type=peer
host=%[2]s
insecure=port,invite
context=from-provider
fromuser=acct1
fromdomain=provider.example
defaultuser=acct1
secret=pw1

; A trunk that is down (the failover test).
[trunk1]
type=peer
host=%[3]s
insecure=port,invite
context=from-provider

; The office phone: it calls out (digest) and takes calls at its address.
[phone]
type=friend
host=%[4]s
secret=%[5]s
context=internal
`
	trunkPJSIPConf = `[transport-udp]
type=transport
protocol=udp
bind=%[1]s:5060

; A second provider: identified by identify match=, reached through its
; AOR's contact; gopbx presents itself as acct1@second.example.
[trunk2]
type=endpoint
context=from-provider
disallow=all
allow=ulaw
aors=trunk2
from_user=acct1
from_domain=second.example
outbound_auth=trunk2-auth
[trunk2]
type=aor
contact=sip:%[2]s:5060
[trunk2]
type=identify
endpoint=trunk2
match=%[2]s
; A provider reached through an outbound proxy (on the second
; provider's address): its own host is never contacted.
[viaproxy]
type=endpoint
context=from-provider
disallow=all
allow=ulaw
aors=viaproxy
outbound_proxy=sip:%[2]s:5060\;lr
[viaproxy]
type=aor
contact=sip:192.0.2.10:5060

[trunk2-auth]
type=auth
username=acct1
password=pw1
%[3]s
`
	trunkExtensions = `[from-provider]
; DIDs the providers send, and the /extension of the register => line.
exten => 5551234,1,Dial(SIP/phone,10)
 same => n,Hangup()
exten => 5551235,1,Dial(SIP/phone,10)
 same => n,Hangup()
exten => ast_provider_reg,1,Dial(SIP/phone,10)
 same => n,Hangup()

[internal]
; 0 + number: out through the provider.
exten => _0X.,1,Dial(SIP/${EXTEN:1}@provider,10)
 same => n,Hangup()
; 8 + number: through the outbound proxy.
exten => _8X.,1,Dial(PJSIP/${EXTEN:1}@viaproxy,10)
 same => n,Hangup()
; 9 + number: trunk1, and trunk2 when trunk1 fails.
exten => _9X.,1,Dial(SIP/trunk1/${EXTEN:1},5)
 same => n,Set(FIRST=${DIALSTATUS})
 same => n,Dial(PJSIP/${EXTEN:1}@trunk2,5)
 same => n,Hangup()
`
)

func TestTrunk(t *testing.T) {
	harness.RequireTool(t, "sipp")
	n := trunkNet{
		pbx: harness.IP(t, "127.0.0.131"), prov1: harness.IP(t, "127.0.0.132"), prov2: harness.IP(t, "127.0.0.133"),
		phone: harness.IP(t, "127.0.0.134"), pbxB: harness.IP(t, "127.0.0.135"), phoneB: harness.IP(t, "127.0.0.136"),
	}
	t.Run("Registration", func(t *testing.T) { testTrunkRegistration(t, n) })
	t.Run("Rejected", func(t *testing.T) { testTrunkRejected(t, n) })
	t.Run("InboundDID", func(t *testing.T) { testTrunkInbound(t, n) })
	t.Run("Outbound", func(t *testing.T) { testTrunkOutbound(t, n) })
	t.Run("Failover", func(t *testing.T) { testTrunkFailover(t, n) })
	t.Run("TwoPBX", func(t *testing.T) { testTrunkTwoPBX(t, n) })
}

// startTrunkPBX starts gopbx on n.pbx with the trunk configuration; the
// sip.conf [general] gets register (register => lines), pjsip.conf gets
// pjsipExtra (registration objects).
func startTrunkPBX(t *testing.T, n trunkNet, register, pjsipExtra string) *harness.PBX {
	t.Helper()
	return harness.StartPBX(t, harness.PBXOptions{
		IP: n.pbx,
		Files: map[string]string{
			"sip.conf":        fmt.Sprintf(trunkSIPConf, n.pbx, n.prov1, n.prov1, n.phone, trunkPhonePassword, register),
			"pjsip.conf":      fmt.Sprintf(trunkPJSIPConf, n.pbx, n.prov2, pjsipExtra),
			"extensions.conf": trunkExtensions,
		},
	})
}

// startRegistrar starts a SIPp registrar (UAS) on ip:5060.
func startRegistrar(t *testing.T, ip, scenario string) *harness.SIPp {
	t.Helper()
	r := harness.StartSIPp(t, harness.SIPpOptions{Scenario: scenario, LocalIP: ip, LocalPort: 5060, Timeout: 40 * time.Second})
	waitUDPListening(t, ip, 5060, 5*time.Second)
	return r
}

// registryRow returns the `sip show registry` row of host, or "".
func registryRow(out, host string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, host+" ") {
			return line
		}
	}
	return ""
}

// gopbx registers with both providers (sip.conf register => with an
// /extension and a short ~expiry; pjsip type=registration with
// expiration=), answers their 401 with a digest SIPp verifies, shows
// Registered on both consoles, refreshes before the expiry, un-registers
// the pjsip one when a reload removes it and the sip.conf one at shutdown.
func testTrunkRegistration(t *testing.T, n trunkNet) {
	reg1 := startRegistrar(t, n.prov1, "trunk_registrar")
	reg2 := startRegistrar(t, n.prov2, "trunk_registrar")
	pjsipReg := fmt.Sprintf(`
[prov2]
type=registration
outbound_auth=trunk2-auth
server_uri=sip:%[1]s:5060
client_uri=sip:acct1@second.example
contact_user=inbound
expiration=6
retry_interval=5
max_random_initial_delay=0
`, n.prov2)
	pbx := startTrunkPBX(t, n, "register => acct1:pw1@"+n.prov1+"/ast_provider_reg~6", pjsipReg)
	host1 := n.prov1 + ":5060"

	out := pbx.WaitConsole(t, "sip show registry", 10*time.Second, func(out string) bool {
		return strings.Contains(registryRow(out, host1), "Registered")
	})
	row := registryRow(out, host1)
	t.Logf("sip show registry:\n%s", out)
	if f := strings.Fields(row); len(f) < 6 || f[1] != "N" || f[2] != "acct1" || f[3] != "6" {
		t.Errorf("registry row %q: want host, dnsmgr N, username acct1, refresh 6, Registered, a time", row)
	}
	if !strings.Contains(out, "1 SIP registrations.") {
		t.Errorf("sip show registry footer:\n%s", out)
	}
	pj := pbx.WaitConsole(t, "pjsip show registrations", 10*time.Second, func(out string) bool {
		return strings.Contains(out, "Registered")
	})
	t.Logf("pjsip show registrations:\n%s", pj)
	if !regexp.MustCompile(`prov2/sip:`+regexp.QuoteMeta(n.prov2)+`:5060 +trunk2-auth +Registered +\(exp\. [0-9]+s\)`).MatchString(pj) ||
		!strings.Contains(pj, "Objects found: 1") {
		t.Errorf("pjsip show registrations:\n%s", pj)
	}

	// Both refresh before their 6 s run out (chan_sip at 4.8 s, res_pjsip
	// at 3 s for such short expiries); the registrars check the digest.
	time.Sleep(6 * time.Second)
	for _, cmd := range []string{"sip show registry", "pjsip show registrations"} {
		if out := pbx.Console(t, cmd); !strings.Contains(out, "Registered") {
			t.Errorf("after the refresh, %s:\n%s", cmd, out)
		}
	}

	// A reload that removes the pjsip registration un-registers it.
	pbx.WriteConfig(t, "pjsip.conf", fmt.Sprintf(trunkPJSIPConf, n.pbx, n.prov2, ""))
	pbx.Console(t, "core reload")
	r2 := reg2.Wait()
	requireSIPpOK(t, "pjsip registrar", r2)
	if out := pbx.Console(t, "pjsip show registrations"); !strings.Contains(out, "No objects found.") {
		t.Errorf("pjsip show registrations after the reload removed it:\n%s", out)
	}
	if out := pbx.Console(t, "sip show registry"); !strings.Contains(registryRow(out, host1), "Registered") {
		t.Errorf("the reload disturbed the sip.conf registration:\n%s", out)
	}

	// Shutdown un-registers the sip.conf one.
	pbx.Stop(t)
	r1 := reg1.Wait()
	requireSIPpOK(t, "sip.conf registrar", r1)

	for _, c := range []struct {
		who, trace, contact, aor string
	}{
		{"sip.conf", r1.Messages, "<sip:ast_provider_reg@" + n.pbx + ":5060>", "<sip:acct1@" + n.prov1 + ">"},
		{"pjsip", r2.Messages, "<sip:inbound@" + n.pbx + ":5060>", "<sip:acct1@second.example>"},
	} {
		regs := regexp.MustCompile(`(?m)^REGISTER sip:`).FindAllString(c.trace, -1)
		if len(regs) < 4 {
			t.Errorf("%s: %d REGISTERs, want the first, its authorized copy, a refresh and the un-REGISTER:\n%s", c.who, len(regs), sipFlow(c.trace))
		}
		if !strings.Contains(c.trace, "Contact: "+c.contact) {
			t.Errorf("%s: no Contact %s in:\n%s", c.who, c.contact, c.trace)
		}
		if !strings.Contains(c.trace, "To: "+c.aor) {
			t.Errorf("%s: no To %s", c.who, c.aor)
		}
		if !regexp.MustCompile(`(?m)^Expires: 0\r?$`).MatchString(c.trace) {
			t.Errorf("%s: no un-REGISTER (Expires: 0)", c.who)
		}
		if got := len(regexp.MustCompile(`Call-ID: (\S+)`).FindAllStringSubmatch(c.trace, -1)); got == 0 {
			t.Errorf("%s: no Call-ID", c.who)
		}
	}
}

// A provider that answers our credentials with 403: Rejected, and no retry.
func testTrunkRejected(t *testing.T, n trunkNet) {
	reg := startRegistrar(t, n.prov1, "trunk_registrar_403")
	pbx := startTrunkPBX(t, n, "register => acct1:wrong@"+n.prov1, "")
	out := pbx.WaitConsole(t, "sip show registry", 10*time.Second, func(out string) bool {
		return strings.Contains(registryRow(out, n.prov1+":5060"), "Rejected")
	})
	t.Logf("sip show registry:\n%s", out)
	requireSIPpOK(t, "registrar (403)", reg.Wait())
	time.Sleep(time.Second)
	if out := pbx.Console(t, "sip show registry"); !strings.Contains(out, "Rejected") {
		t.Errorf("state changed after the 403:\n%s", out)
	}
}

// placePhoneCall runs a UAC scenario from the phone (at n.phone) to exten.
func placePhoneCall(t *testing.T, pbx *harness.PBX, ip, scenario, exten string, args ...string) harness.SIPpResult {
	t.Helper()
	return harness.RunSIPp(t, harness.SIPpOptions{
		Scenario: scenario, Remote: pbx.Addr(), LocalIP: ip, Service: exten,
		Users:     "SEQUENTIAL\nphone;" + trunkPhonePassword + "\n",
		Timeout:   20 * time.Second,
		ExtraArgs: append([]string{"-auth_uri", exten + "@" + pbx.Addr()}, args...),
	})
}

// providerCall runs a UAC scenario from a provider's address (no
// credentials: gopbx must identify it by address) to a DID.
func providerCall(t *testing.T, pbx *harness.PBX, ip, did string) harness.SIPpResult {
	t.Helper()
	return harness.RunSIPp(t, harness.SIPpOptions{
		Scenario: "uac_call", Remote: pbx.Addr(), LocalIP: ip, Service: did,
		Users: "SEQUENTIAL\nprovider;none\n", Timeout: 20 * time.Second, ExtraArgs: []string{"-d", "300"},
	})
}

// Calls from the providers to DIDs: identified by source address (sip.conf
// host= with insecure=port,invite; pjsip identify), routed in the peer's
// context by the Request-URI user, which for the register => line's
// /extension is its contact user. Each reaches the phone unchallenged.
func testTrunkInbound(t *testing.T, n trunkNet) {
	pbx := startTrunkPBX(t, n, "register => acct1:pw1@"+n.prov1+"/ast_provider_reg", "")
	for _, c := range []struct{ name, src, did string }{
		{"sip.conf DID", n.prov1, "5551234"},
		{"register /extension", n.prov1, "ast_provider_reg"},
		{"pjsip identify DID", n.prov2, "5551235"},
	} {
		t.Run(c.name, func(t *testing.T) {
			phone := startCallee(t, n.phone, "uas_answer")
			r := providerCall(t, pbx, c.src, c.did)
			requireSIPpOK(t, "provider", r)
			requireSIPpOK(t, "phone", finishCallee(phone, r.OK()))
			if challenged(r.Messages) {
				t.Errorf("the provider's INVITE was challenged")
			}
			waitCallsGone(t, pbx)
		})
	}
	// An unknown source is challenged and refused, never routed.
	r := harness.RunSIPp(t, harness.SIPpOptions{Scenario: "uac_expect_403", Remote: pbx.Addr(), LocalIP: n.phoneB, Service: "5551234",
		Users: "SEQUENTIAL\nprovider;none\n", Timeout: 20 * time.Second, ExtraArgs: []string{"-auth_uri", "5551234@" + pbx.Addr()}})
	requireSIPpOK(t, "stranger (expects 403)", r)
}

// Dial(SIP/${EXTEN:1}@provider) from the phone: the provider gets the
// number in the Request-URI, From acct1@provider.example (fromuser,
// fromdomain) and answers its own 407 challenge with defaultuser/secret.
// Then Dial(PJSIP/${EXTEN:1}@viaproxy) goes through outbound_proxy.
func testTrunkOutbound(t *testing.T, n trunkNet) {
	pbx := startTrunkPBX(t, n, "", "")
	prov := startCallee(t, n.prov1, "trunk_uas_auth")
	r := placePhoneCall(t, pbx, n.phone, "uac_call", "05551234", "-d", "300")
	requireSIPpOK(t, "phone", r)
	rp := finishCallee(prov, r.OK())
	requireSIPpOK(t, "provider (407, then answers)", rp)
	if want := "INVITE sip:5551234@" + n.prov1; !strings.Contains(rp.Messages, want) {
		t.Errorf("provider's Request-URI is not %s:\n%s", want, sipFlow(rp.Messages))
	}
	if !regexp.MustCompile(`From: [^\n]*<sip:acct1@provider\.example>`).MatchString(rp.Messages) {
		t.Errorf("provider's From is not acct1@provider.example:\n%s", rp.Messages)
	}
	checkDigest(t, rp.Messages, "Proxy-Authorization", "INVITE", "acct1", "pw1")
	waitCallsGone(t, pbx)

	// outbound_proxy: the INVITE for 192.0.2.10 goes to the proxy.
	proxy := startCallee(t, n.prov2, "uas_answer")
	r = placePhoneCall(t, pbx, n.phone, "uac_call", "85551234", "-d", "300")
	requireSIPpOK(t, "phone (via proxy)", r)
	rx := finishCallee(proxy, r.OK())
	requireSIPpOK(t, "outbound proxy", rx)
	if !strings.Contains(rx.Messages, "INVITE sip:5551234@192.0.2.10") {
		t.Errorf("the proxy did not get the INVITE for the provider's host:\n%s", sipFlow(rx.Messages))
	}
	waitCallsGone(t, pbx)
}

// checkDigest recomputes the first digest answer (RFC 2617, MD5, with or
// without qop) found in header of a SIPp trace with user and password.
func checkDigest(t *testing.T, trace, header, method, user, password string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + header + `: Digest (.*?)\r?$`).FindStringSubmatch(trace)
	if m == nil {
		t.Errorf("no %s in the trace", header)
		return
	}
	p := map[string]string{}
	for _, kv := range regexp.MustCompile(`(\w+)=("([^"]*)"|[^,\s]+)`).FindAllStringSubmatch(m[1], -1) {
		v := kv[2]
		if kv[3] != "" || strings.HasPrefix(v, `"`) {
			v = kv[3]
		}
		p[kv[1]] = v
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	ha1, ha2 := h(user+":"+p["realm"]+":"+password), h(method+":"+p["uri"])
	want := h(ha1 + ":" + p["nonce"] + ":" + ha2)
	if p["qop"] != "" {
		want = h(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	}
	if p["username"] != user || p["response"] != want {
		t.Errorf("%s %q: want username %s and response %s", header, m[1], user, want)
	}
}

// Failover: trunk1 answers 503, the dialplan's next priority dials trunk2
// (pjsip, from_user/from_domain), which answers.
func testTrunkFailover(t *testing.T, n trunkNet) {
	pbx := startTrunkPBX(t, n, "", "")
	down := startCallee(t, n.prov1, "trunk_uas_503")
	up := startCallee(t, n.prov2, "uas_answer")
	r := placePhoneCall(t, pbx, n.phone, "uac_call", "95551234", "-d", "300")
	requireSIPpOK(t, "phone", r)
	requireSIPpOK(t, "trunk1 (503)", finishCallee(down, r.OK()))
	ru := finishCallee(up, r.OK())
	requireSIPpOK(t, "trunk2", ru)
	if !strings.Contains(ru.Messages, "INVITE sip:5551234@"+n.prov2) {
		t.Errorf("trunk2's Request-URI:\n%s", sipFlow(ru.Messages))
	}
	if !regexp.MustCompile(`From: [^\n]*<sip:acct1@second\.example>`).MatchString(ru.Messages) {
		t.Errorf("trunk2's From is not acct1@second.example:\n%s", ru.Messages)
	}
	waitCallsGone(t, pbx)
}

// seed001Conf is seed 001's sip.conf for one of the two servers, on
// loopback addresses: it registers to the other server as remoteUser and
// reaches it through a static trunk peer (insecure=very, fromuser).
func seed001Conf(self, other, localUser, remoteUser, trunk, trunkSecret, phone, phoneIP string) string {
	return fmt.Sprintf(`[general]
bindaddr=%[1]s
register=>%[4]s:123456@%[2]s

[%[3]s]
type=friend
secret=123456
host=dynamic
username=%[3]s
disallow=all
allow=ulaw;alaw
context=FROMSIP

[%[5]s]
type=friend
username=%[4]s
secret=%[6]s
host=%[2]s
dtmfmode=rfc2833
context=FROMSIP
fromuser=%[4]s
insecure=very

[%[7]s]
type=friend
host=%[8]s
secret=%[9]s
context=FROMSIP
`, self, other, localUser, remoteUser, trunk, trunkSecret, phone, phoneIP, trunkPhonePassword)
}

// seed001Extensions is the seed's dialplan with its two bugs fixed: the
// application "dila", and ${exten}, which is empty in Asterisk as in gopbx
// (built-in variable names are case-sensitive: pbx.c compares "EXTEN"
// with strcmp).
func seed001Extensions(trunk string) string {
	return `[FROMSIP]
Exten => _90.,1,Dial(sip/91${EXTEN:2}@` + trunk + `,40,m(default))
Exten => _91.,1,Dial(sip/${EXTEN:2},40,m(default))
`
}

// Seed 001: two gopbx joined by SIP trunks both ways, each registering to
// the other. A phone on A dials 90 + an extension of B; A sends 91... to
// B through its trunk peer, B identifies A by address and dials its own
// phone, which answers: the caller gets 200 (signalling only).
func testTrunkTwoPBX(t *testing.T, n trunkNet) {
	a := harness.StartPBX(t, harness.PBXOptions{IP: n.pbx, Files: map[string]string{
		"sip.conf":        seed001Conf(n.pbx, n.pbxB, "AST21", "AST22", "22TRUNK", "123456", "phone", n.phone),
		"extensions.conf": seed001Extensions("22TRUNK"),
	}})
	b := harness.StartPBX(t, harness.PBXOptions{IP: n.pbxB, Files: map[string]string{
		"sip.conf":        seed001Conf(n.pbxB, n.pbx, "AST22", "AST21", "21TRUNK", "bsmofeng", "2001", n.phoneB),
		"extensions.conf": seed001Extensions("21TRUNK"),
	}})
	for _, p := range []*harness.PBX{a, b} {
		out := p.WaitConsole(t, "sip show registry", 15*time.Second, func(out string) bool { return strings.Contains(out, "Registered") })
		t.Logf("%s sip show registry:\n%s", p.IP(), out)
	}
	phoneB := startCallee(t, n.phoneB, "uas_answer")
	r := placePhoneCall(t, a, n.phone, "uac_call", "902001", "-d", "300")
	requireSIPpOK(t, "phone on A", r)
	rb := finishCallee(phoneB, r.OK())
	requireSIPpOK(t, "phone on B", rb)
	// chan_sip's Request-URI for a static peer without defaultuser has no user.
	if !strings.Contains(rb.Messages, "INVITE sip:"+n.phoneB) {
		t.Errorf("B's INVITE to its phone:\n%s", sipFlow(rb.Messages))
	}
	waitCallsGone(t, a)
	waitCallsGone(t, b)
}
