package sipserver

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func selfSigned(t *testing.T, cn string) *tls.Config {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}}}
}

// A TLS listener answers SIP over TLS, and SetTLS swaps the certificate for
// new connections without reopening the socket (reload).
func TestTLSListenerAndSetTLS(t *testing.T) {
	s, err := New(Options{UserAgent: "gopbx-test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle(sip.OPTIONS, HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(200, "OK") }))
	if err := s.Listen(context.Background(), []Listener{{Proto: "tls", Addr: "127.0.0.1:0", TLS: selfSigned(t, "first")}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	addr := s.Listeners()[0].Addr

	exchange := func() (peer, reply string) {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, request("OPTIONS", "TLS 127.0.0.1:5999", ""))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName, line
	}
	if cn, line := exchange(); cn != "first" || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("first connection: cert %q, reply %q", cn, line)
	}
	if !s.SetTLS("tls", "127.0.0.1:0", selfSigned(t, "second")) {
		t.Fatal("SetTLS found no listener")
	}
	if cn, _ := exchange(); cn != "second" {
		t.Fatalf("after SetTLS the certificate is %q", cn)
	}
	if s.SetTLS("wss", "127.0.0.1:0", selfSigned(t, "x")) {
		t.Error("SetTLS matched a listener that does not exist")
	}
}
