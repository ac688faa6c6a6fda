package pbxconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func pemPair(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func listener(p *PBX, proto string) *Listener {
	for i := range p.Listeners {
		if p.Listeners[i].Proto == proto {
			return &p.Listeners[i]
		}
	}
	return nil
}

const pjTLS = `[udp]
type=transport
protocol=udp
bind=127.0.0.1:5060

[tls]
type=transport
protocol=tls
bind=127.0.0.1
cert_file=cert.pem
priv_key_file=key.pem
method=tlsv1_3
`

func TestTLSListeners(t *testing.T) {
	cert, key := pemPair(t)
	_, otherKey := pemPair(t)
	tests := []struct {
		name  string
		files map[string]string
		err   string // substring of the error; "" for success
		check func(t *testing.T, p *PBX)
	}{
		{name: "pjsip tls", files: map[string]string{"pjsip.conf": pjTLS, "cert.pem": cert, "key.pem": key},
			check: func(t *testing.T, p *PBX) {
				l := listener(p, "tls")
				if l == nil || l.Addr != "127.0.0.1:5061" || l.TLS.Config == nil || len(l.TLS.Config.Certificates) != 1 {
					t.Fatalf("tls listener: %+v", l)
				}
				if l.TLS.Config.MinVersion != tls.VersionTLS13 {
					t.Errorf("method=tlsv1_3: MinVersion %x", l.TLS.Config.MinVersion)
				}
				if p.ClientTLS == nil || !p.ClientTLS.InsecureSkipVerify {
					t.Errorf("verify_server defaults to no (res_pjsip): %+v", p.ClientTLS)
				}
			}},
		{name: "key inside the cert file", files: map[string]string{
			"pjsip.conf": strings.Replace(pjTLS, "priv_key_file=key.pem\n", "", 1), "cert.pem": cert + key}},
		{name: "missing cert", files: map[string]string{"pjsip.conf": pjTLS, "key.pem": key},
			err: "pjsip.conf:10: certificate: open"},
		{name: "missing key", files: map[string]string{"pjsip.conf": pjTLS, "cert.pem": cert},
			err: "pjsip.conf:11: private key: open"},
		{name: "key of another cert", files: map[string]string{"pjsip.conf": pjTLS, "cert.pem": cert, "key.pem": otherKey},
			err: "pjsip.conf:11: certificate cert.pem and key key.pem"},
		{name: "no cert_file", files: map[string]string{"pjsip.conf": "[tls]\ntype=transport\nprotocol=tls\nbind=127.0.0.1\n"},
			err: "pjsip.conf:1: tls listener [tls] needs a certificate"},
		{name: "bad CA list", files: map[string]string{
			"pjsip.conf": pjTLS + "ca_list_file=ca.pem\nverify_client=yes\n", "cert.pem": cert, "key.pem": key, "ca.pem": "junk"},
			err: "pjsip.conf:13: CA list ca.pem: no PEM certificate"},
		{name: "sip.conf tlsenable", files: map[string]string{"sip.conf": "[general]\nbindaddr=127.0.0.1\ntlsenable=yes\ntlscertfile=nope.pem\n"},
			err: "sip.conf:4: certificate: open"},
		{name: "http.conf ws and wss", files: map[string]string{
			"pjsip.conf": "[ws]\ntype=transport\nprotocol=ws\nbind=0.0.0.0:9999\n",
			"http.conf":  "[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport=8088\ntlsenable=yes\ntlsbindaddr=127.0.0.1:8089\ntlscertfile=cert.pem\ntlsprivatekey=key.pem\n",
			"cert.pem":   cert, "key.pem": key},
			check: func(t *testing.T, p *PBX) {
				ws, wss := listener(p, "ws"), listener(p, "wss")
				// Asterisk serves the ws transport from http.conf's address.
				if ws == nil || ws.Addr != "127.0.0.1:8088" || len(p.Listeners) != 2 {
					t.Errorf("ws listener: %+v", ws)
				}
				if wss == nil || wss.Addr != "127.0.0.1:8089" || wss.TLS == nil || wss.TLS.Config == nil {
					t.Errorf("wss listener: %+v", wss)
				}
			}},
		{name: "wss without a certificate", files: map[string]string{"pjsip.conf": "[wss]\ntype=transport\nprotocol=wss\n"},
			check: func(t *testing.T, p *PBX) {
				if l := listener(p, "wss"); l != nil {
					t.Errorf("wss without certificate listens: %+v", l)
				}
			}},
		{name: "http.conf without bindaddr", files: map[string]string{
			"pjsip.conf": "[ws]\ntype=transport\nprotocol=ws\nbind=127.0.0.1:9999\n", "http.conf": "[general]\nenabled=yes\n"},
			check: func(t *testing.T, p *PBX) {
				if ws := listener(p, "ws"); ws == nil || ws.Addr != "127.0.0.1:9999" {
					t.Errorf("ws listener: %+v", ws)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := Load(writeDir(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestTLSMethodAndCipherWarnings(t *testing.T) {
	cert, key := pemPair(t)
	conf := strings.Replace(pjTLS, "method=tlsv1_3", "method=sslv3\ncipher=ALL,TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 1)
	p, diags, err := Load(writeDir(t, map[string]string{"pjsip.conf": conf, "cert.pem": cert, "key.pem": key}))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, d := range diags {
		all = append(all, d.Error())
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, `TLS method "sslv3"`) || !strings.Contains(joined, "TLS cipher ALL: not a Go") {
		t.Errorf("warnings:\n%s", joined)
	}
	if cs := listener(p, "tls").TLS.Config.CipherSuites; len(cs) != 1 || cs[0] != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("cipher suites %v", cs)
	}
}
