package test

import (
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// streamExtensions routes 1000-1009 to the endpoint of that name.
const streamExtensions = `[default]
exten => _100X,1,Dial(PJSIP/${EXTEN},15)
 same => n,Hangup()
`

// tlsFiles are the config files of a gopbx with pjsipConf's users plus
// extra transports, and a certificate in tls/ (named relative to the
// config directory, as the demo does).
func tlsFiles(ip, transports, cert, key string) map[string]string {
	return map[string]string{
		"pjsip.conf":      pjsipConf(ip) + transports,
		"extensions.conf": streamExtensions,
		"tls/cert.pem":    cert,
		"tls/key.pem":     key,
	}
}

// SIP over WebSocket (RFC 7118), plain and over TLS: a Go client upgrades
// with the "sip" subprotocol, registers with digest using a Contact at a
// made-up .invalid host, and then receives the INVITE of a call a SIPp
// phone places over UDP to its extension. The client has no socket of its
// own, so the INVITE can only have come back through its WebSocket flow.
func TestWSRegisterAndReceiveCall(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	cert, key, roots := testCert(t)
	ip := harness.IP(t, "127.0.0.126")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: tlsFiles(ip, `
[transport-ws]
type=transport
protocol=ws
bind=127.0.0.126:8088

[transport-wss]
type=transport
protocol=wss
bind=127.0.0.126:8089
cert_file=tls/cert.pem
priv_key_file=tls/key.pem
`, cert, key)})
	local := harness.IP(t, "127.0.0.127")
	for _, tc := range []struct{ name, url, user string }{
		{"ws", "ws://127.0.0.126:8088/ws", "1000"},
		{"wss", "wss://127.0.0.126:8089/ws", "1002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua := dialWSUA(t, local, tc.url, roots, tc.user, passwords[tc.user], "127.0.0.126")
			res := ua.register(600)
			if statusCode(res) != 200 {
				t.Fatalf("REGISTER over %s: want 200, got:\n%s", tc.name, res)
			}
			if !strings.Contains(res, ua.contact) {
				t.Errorf("200 does not list the registered contact %s:\n%s", ua.contact, res)
			}
			out := contacts(t, pbx)
			if !hasContact(out, tc.user, "", ua.via) {
				t.Fatalf("no contact of %s at %s:\n%s", tc.user, ua.via, out)
			}

			// 1001 calls the WebSocket phone from SIPp over UDP.
			caller := harness.StartSIPp(t, harness.SIPpOptions{
				Scenario: "uac_call", Remote: pbx.Addr(), LocalIP: local, Service: tc.user,
				Users: users("1001"), Timeout: 20 * time.Second,
				ExtraArgs: []string{"-auth_uri", tc.user + "@" + pbx.Addr(), "-d", "500"},
			})
			inv := ua.next(10*time.Second, func(m string) bool { return strings.HasPrefix(m, "INVITE ") })
			wantVia := "SIP/2.0/" + ua.transport + " "
			if via := headerValue(inv, "Via"); !strings.HasPrefix(via, wantVia) {
				t.Errorf("INVITE over %s: Via %q, want %s...", tc.name, via, wantVia)
			}
			if ct := headerValue(inv, "Contact"); !strings.Contains(ct, "transport="+tc.name) {
				t.Errorf("INVITE over %s: Contact %q lacks transport=%s", tc.name, ct, tc.name)
			}
			ua.respond(inv, "180 Ringing", "")
			ua.respond(inv, "200 OK", `
v=0
o=- 1 1 IN IP4 127.0.0.127
s=-
c=IN IP4 127.0.0.127
t=0 0
m=audio 40000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv
`)
			ua.next(5*time.Second, func(m string) bool { return strings.HasPrefix(m, "ACK ") })
			pbx.WaitConsole(t, "core show calls", 5*time.Second, func(out string) bool { return strings.Contains(out, "1 active call") })
			bye := ua.next(10*time.Second, func(m string) bool { return strings.HasPrefix(m, "BYE ") })
			ua.respond(bye, "200 OK", "")
			if r := caller.Wait(); !r.OK() {
				t.Fatalf("SIPp call to the %s phone: exit %d, %d failed\n%s", tc.name, r.ExitCode, r.Failed, r.Errors)
			}
		})
	}
}
