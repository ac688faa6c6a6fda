package demo

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/config/pbxconf"
)

// The first start makes a self-signed ECDSA P-256 certificate valid for 10
// years for localhost and 127.0.0.1; later starts keep it; the demo
// configuration serves it on TLS 5061 and offers WebSocket on 8088.
func TestSetupCertificate(t *testing.T) {
	data := t.TempDir()
	dir, _, err := Setup(data)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	block, _ := pem.Decode(first)
	if block == nil {
		t.Fatal("certificate is not PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", c.PublicKey)
	}
	if years := c.NotAfter.Sub(time.Now()).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("valid for %.1f years, want 10", years)
	}
	if !slices.Contains(c.DNSNames, "localhost") || !slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Errorf("SANs %v %v lack localhost or 127.0.0.1", c.DNSNames, c.IPAddresses)
	}
	if h, err := os.Hostname(); err == nil && !slices.Contains(c.DNSNames, h) {
		t.Errorf("SANs %v lack the host name %s", c.DNSNames, h)
	}

	if _, _, err := Setup(data); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, CertFile)); !bytes.Equal(first, again) {
		t.Error("a second start replaced the certificate")
	}
	// Deleted, it is made again (pjsip.conf still names it).
	os.Remove(filepath.Join(dir, CertFile))
	if _, _, err := Setup(data); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err != nil {
		t.Fatal(err)
	}

	cfg, _, err := pbxconf.Load(dir)
	if err != nil {
		t.Fatalf("demo configuration: %v", err)
	}
	want := map[string]string{"udp": "0.0.0.0:5060", "tcp": "0.0.0.0:5060", "tls": "0.0.0.0:5061", "ws": "0.0.0.0:8088"}
	for _, l := range cfg.Listeners {
		if want[l.Proto] == l.Addr {
			delete(want, l.Proto)
		}
		if l.Proto == "tls" && (l.TLS == nil || l.TLS.Config == nil) {
			t.Error("demo TLS listener has no certificate loaded")
		}
	}
	if len(want) > 0 {
		t.Errorf("demo listeners %+v lack %v", cfg.Listeners, want)
	}
}
