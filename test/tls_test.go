package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// tlsTransport is a pjsip TLS transport on ip:5061 with the certificate
// tlsFiles writes; certLine is the cert_file line (for broken variants).
func tlsTransport(ip, certLine string) string {
	return fmt.Sprintf(`
[transport-tls]
type=transport
protocol=tls
bind=%s:5061
%s
priv_key_file=tls/key.pem
method=tlsv1_2
`, ip, certLine)
}

// Two baresip phones register over TLS (gopbx's certificate is
// self-signed; baresip gets it as sip_cafile) and call each other: the
// call is answered, both channels are up, hang-up ends it and the CDR says
// ANSWERED. The callee got the INVITE over TLS with a TLS Via.
func TestTLSBaresipCall(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "baresip")
	cert, key, _ := testCert(t)
	ip := harness.IP(t, "127.0.0.121")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: tlsFiles(ip, tlsTransport(ip, "cert_file=tls/cert.pem"), cert, key)})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsAddr := harness.HostPort(ip, 5061)
	phone := func(name, addr, user string) *harness.Baresip {
		return harness.StartBaresip(t, harness.BaresipOptions{Name: name, IP: harness.IP(t, addr),
			User: user, Password: passwords[user], Domain: tlsAddr, Transport: "tls",
			ExtraConfig: "sip_cafile              " + ca + "\n"})
	}
	alice, bob := phone("alice", "127.0.0.122", "1000"), phone("bob", "127.0.0.123", "1001")
	for _, ua := range []*harness.Baresip{alice, bob} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	out := contacts(t, pbx)
	for _, row := range contactLines(out) {
		if !strings.Contains(strings.ToLower(row), "transport=tls") {
			t.Errorf("contact registered over TLS without transport=tls: %q", row)
		}
	}
	if n := len(contactLines(out)); n != 2 {
		t.Fatalf("want 2 TLS contacts, got %d:\n%s", n, out)
	}

	if err := alice.Dial("sip:1001@" + tlsAddr + ";transport=tls"); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("TLS call 1000 -> 1001: %v", err)
		}
	}
	pbx.WaitConsole(t, "core show channels", 5*time.Second, func(out string) bool { return len(channelRows(out)) == 2 })
	time.Sleep(time.Second) // some billable time
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatalf("TLS call hang-up: %v", err)
		}
	}
	waitCDR(t, pbx, 5*time.Second, "ANSWERED record of the TLS call", func(r cdrRecord) bool {
		return r.Dst == "1001" && r.Disposition == "ANSWERED" && r.BillSec >= 1
	})
	// baresip -s traces every message: the INVITE bob got came over TLS.
	if log := bob.Log(); !strings.Contains(log, "INVITE sip:") || !strings.Contains(log, "Via: SIP/2.0/TLS "+tlsAddr) {
		t.Errorf("bob's trace shows no INVITE with Via SIP/2.0/TLS %s", tlsAddr)
	}
}

// SIPp cannot do TLS here (Debian builds it without OpenSSL), so a small Go
// client registers with digest over TLS, checking gopbx's certificate; the
// binding keeps transport=tls and the client's connection address.
func TestTLSRegister(t *testing.T) {
	t.Parallel()
	cert, key, roots := testCert(t)
	ip := harness.IP(t, "127.0.0.124")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: tlsFiles(ip, tlsTransport(ip, "cert_file=tls/cert.pem"), cert, key)})
	local := harness.IP(t, "127.0.0.125")
	ua := dialTLSUA(t, local, harness.HostPort(ip, 5061), roots, "1000", passwords["1000"])
	if res := ua.register(600); statusCode(res) != 200 {
		t.Fatalf("REGISTER over TLS: want 200, got:\n%s", res)
	}
	out := contacts(t, pbx)
	if !hasContact(out, "1000", "1000", ua.via) || !strings.Contains(out, "transport=tls") {
		t.Fatalf("no TLS contact of 1000 at %s:\n%s", ua.via, out)
	}
	// A wrong password over TLS is refused like over UDP.
	bad := dialTLSUA(t, local, harness.HostPort(ip, 5061), roots, "1001", "not-"+passwords["1001"])
	if res := bad.register(600); statusCode(res) == 200 {
		t.Fatalf("a wrong password registered over TLS:\n%s", res)
	}
}

// A TLS certificate that cannot be loaded is a configuration error naming
// the file and line: at start gopbx refuses to run, on reload it keeps the
// running configuration, whose certificate keeps serving new connections.
func TestTLSBadConfig(t *testing.T) {
	t.Parallel()
	cert, key, roots := testCert(t)
	ip := harness.IP(t, "127.0.0.128")
	files := tlsFiles(ip, tlsTransport(ip, "cert_file=tls/cert.pem"), cert, key)

	// Start-up: the error names the cert_file line.
	dir := t.TempDir()
	broken := pjsipConf(ip) + tlsTransport(ip, "cert_file=tls/missing.pem")
	certLine := lineOf(t, broken, "cert_file=tls/missing.pem")
	writeFile(t, filepath.Join(dir, "pjsip.conf"), broken)
	out, err := runCmd(t, 10*time.Second, harness.Binary(t), "-C", dir, "-data", t.TempDir())
	if err == nil {
		t.Fatalf("gopbx started with a missing certificate:\n%s", out)
	}
	if want := fmt.Sprintf("pjsip.conf:%d", certLine); !strings.Contains(out, want) || !strings.Contains(out, "missing.pem") {
		t.Fatalf("start-up error does not cite %s and the file:\n%s", want, out)
	}

	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: files})
	local := harness.IP(t, "127.0.0.129")
	for _, tc := range []struct{ name, conf, key, want string }{
		{"missing cert", pjsipConf(ip) + tlsTransport(ip, "cert_file=tls/missing.pem"), key, "cert_file=tls/missing.pem"},
		{"key of another cert", pjsipConf(ip) + tlsTransport(ip, "cert_file=tls/cert.pem"), otherKey(t), "priv_key_file=tls/key.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pbx.WriteConfig(t, "pjsip.conf", tc.conf)
			pbx.WriteConfig(t, "tls/key.pem", tc.key)
			out, err := pbx.ConsoleErr("core reload")
			if err == nil {
				t.Fatalf("core reload with %s succeeded:\n%s", tc.name, out)
			}
			want := fmt.Sprintf("pjsip.conf:%d", lineOf(t, tc.conf, tc.want))
			if !strings.Contains(out, want) || !strings.Contains(out, "running configuration is kept") {
				t.Fatalf("reload error does not cite %s and keep the config:\n%s", want, out)
			}
			// The running certificate still serves a new connection.
			ua := dialTLSUA(t, local, harness.HostPort(ip, 5061), roots, "1000", passwords["1000"])
			if res := ua.register(600); statusCode(res) != 200 {
				t.Fatalf("REGISTER over TLS after a failed reload: want 200, got:\n%s", res)
			}
		})
	}
	// Fixed again, the reload succeeds.
	pbx.WriteConfig(t, "tls/key.pem", key)
	pbx.WriteConfig(t, "pjsip.conf", files["pjsip.conf"])
	if out := pbx.Console(t, "core reload"); !strings.Contains(out, "reloaded") {
		t.Fatalf("core reload of the fixed config: %q", out)
	}
}

// lineOf returns the 1-based line of conf that is exactly line.
func lineOf(t *testing.T, conf, line string) int {
	t.Helper()
	for i, l := range strings.Split(conf, "\n") {
		if strings.TrimSpace(l) == line {
			return i + 1
		}
	}
	t.Fatalf("no line %q in the config", line)
	return 0
}

// otherKey is a valid private key that does not match testCert's certificate.
func otherKey(t *testing.T) string {
	_, key, _ := testCert(t)
	return key
}
