package test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/icholy/digest"
)

// A minimal SIP user agent over one stream connection (TLS, WS or WSS):
// enough to REGISTER with digest and to answer a call. It has no listening
// socket of its own, so a request gopbx sends it proves that gopbx reused
// the connection the REGISTER came in on (RFC 5626 flows, RFC 7118).
type streamUA struct {
	t         *testing.T
	transport string // Via transport: TLS, WS, WSS
	via       string // sent-by host[:port]
	contact   string // Contact URI
	user      string
	password  string
	domain    string // Request-URI host[:port] of REGISTER

	write func([]byte) error
	in    chan string
	done  chan struct{}
	close func() error
	seq   int
	tag   string
	cid   string
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newStreamUA(t *testing.T, transport, via, contact, user, password, domain string) *streamUA {
	return &streamUA{t: t, transport: transport, via: via, contact: contact, user: user, password: password,
		domain: domain, in: make(chan string, 16), done: make(chan struct{}), tag: randHex(6), cid: randHex(10)}
}

// dialTLSUA connects from local (an IP) to addr over TLS, trusting roots.
func dialTLSUA(t *testing.T, local, addr string, roots *x509.CertPool, user, password string) *streamUA {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp4", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	la := c.LocalAddr().(*net.TCPAddr)
	hp := net.JoinHostPort(local, strconv.Itoa(la.Port))
	u := newStreamUA(t, "TLS", hp, "sip:"+user+"@"+hp+";transport=tls", user, password, addr)
	u.write = func(b []byte) error { _, err := c.Write(b); return err }
	u.close = c.Close
	go u.readStream(bufio.NewReader(c))
	t.Cleanup(func() { u.close() })
	return u
}

// dialWSUA opens a SIP WebSocket (RFC 7118) from local to url ("ws://" or
// "wss://"); the server must agree to the "sip" subprotocol. Its Via and
// Contact use a made-up .invalid host, as browser phones do.
func dialWSUA(t *testing.T, local, url string, roots *x509.CertPool, user, password, domain string) *streamUA {
	t.Helper()
	d := ws.Dialer{
		Protocols: []string{"sip"},
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
			return nd.DialContext(ctx, "tcp4", addr)
		},
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"},
		Timeout:   5 * time.Second,
	}
	c, br, hs, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("websocket dial %s: %v", url, err)
	}
	if hs.Protocol != "sip" {
		t.Fatalf("websocket %s: server chose subprotocol %q, want sip", url, hs.Protocol)
	}
	transport := "WS"
	if strings.HasPrefix(url, "wss:") {
		transport = "WSS"
	}
	host := randHex(5) + ".invalid"
	u := newStreamUA(t, transport, host, "sip:"+randHex(4)+"@"+host+";transport="+strings.ToLower(transport), user, password, domain)
	u.write = func(b []byte) error { return wsutil.WriteClientText(c, b) }
	u.close = c.Close
	var r io.Reader = c
	if br != nil {
		r = io.MultiReader(br, c)
	}
	go u.readWS(struct {
		io.Reader
		io.Writer
	}{r, c})
	t.Cleanup(func() { u.close() })
	return u
}

func (u *streamUA) readStream(br *bufio.Reader) {
	defer close(u.done)
	for {
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" && head.Len() == 0 {
				continue // keepalive
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		msg := head.String()
		n, _ := strconv.Atoi(headerValue(msg, "Content-Length"))
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		u.in <- msg + string(body)
	}
}

func (u *streamUA) readWS(rw io.ReadWriter) {
	defer close(u.done)
	for {
		b, _, err := wsutil.ReadServerData(rw)
		if err != nil {
			return
		}
		u.in <- string(b)
	}
}

func (u *streamUA) send(msg string) {
	u.t.Helper()
	msg = strings.ReplaceAll(strings.TrimLeft(msg, "\n"), "\n", "\r\n")
	if err := u.write([]byte(msg)); err != nil {
		u.t.Fatalf("%s ua: write: %v", u.transport, err)
	}
}

// next returns the next message; requests pred rejects are answered 200
// (OPTIONS pings) and skipped.
func (u *streamUA) next(timeout time.Duration, pred func(string) bool) string {
	u.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-u.in:
			if pred(m) {
				return m
			}
			if strings.HasPrefix(m, "OPTIONS ") {
				u.respond(m, "200 OK", "")
			}
		case <-u.done:
			u.t.Fatalf("%s ua: connection closed", u.transport)
		case <-deadline:
			u.t.Fatalf("%s ua: nothing expected within %v", u.transport, timeout)
		}
	}
}

func (u *streamUA) request(method, ruri, extra string) string {
	u.seq++
	return fmt.Sprintf(`%s %s SIP/2.0
Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport
Max-Forwards: 70
From: <sip:%s@%s>;tag=%s
To: <sip:%s@%s>
Call-ID: %s
CSeq: %d %s
%sContent-Length: 0

`, method, ruri, u.transport, u.via, randHex(8), u.user, u.domain, u.tag, u.user, u.domain, u.cid, u.seq, method, extra)
}

// register sends REGISTER, answers the digest challenge and returns the
// final response.
func (u *streamUA) register(expires int) string {
	u.t.Helper()
	ruri := "sip:" + u.domain
	extra := fmt.Sprintf("Contact: <%s>;expires=%d\nExpires: %d\n", u.contact, expires, expires)
	u.send(u.request("REGISTER", ruri, extra))
	isResp := func(m string) bool { return strings.HasPrefix(m, "SIP/2.0 ") && !strings.HasPrefix(m, "SIP/2.0 100") }
	res := u.next(5*time.Second, isResp)
	if statusCode(res) != 401 {
		return res
	}
	chal, err := digest.ParseChallenge(headerValue(res, "WWW-Authenticate"))
	if err != nil {
		u.t.Fatalf("401 challenge: %v\n%s", err, res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: ruri, Username: u.user, Password: u.password, Count: 1})
	if err != nil {
		u.t.Fatal(err)
	}
	u.send(u.request("REGISTER", ruri, extra+"Authorization: "+cred.String()+"\n"))
	return u.next(5*time.Second, isResp)
}

// respond answers req with status ("200 OK"); sdp, when set, is the body.
func (u *streamUA) respond(req, status, sdp string) {
	u.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %s\n", status)
	for _, line := range headerLines(req) {
		name := strings.ToLower(strings.TrimSpace(line[:strings.IndexByte(line, ':')]))
		switch name {
		case "via", "v", "from", "f", "call-id", "i", "cseq", "record-route":
			b.WriteString(line + "\n")
		case "to", "t":
			if !strings.Contains(line, "tag=") && !strings.HasPrefix(status, "100") {
				line += ";tag=" + u.tag
			}
			b.WriteString(line + "\n")
		}
	}
	fmt.Fprintf(&b, "Contact: <%s>\n", u.contact)
	if sdp != "" {
		sdp = strings.ReplaceAll(strings.TrimLeft(sdp, "\n"), "\n", "\r\n")
		fmt.Fprintf(&b, "Content-Type: application/sdp\nContent-Length: %d\n\n", len(sdp))
	} else {
		b.WriteString("Content-Length: 0\n\n")
	}
	// One write: over WebSocket a message is one frame.
	msg := strings.ReplaceAll(b.String(), "\n", "\r\n") + sdp
	if err := u.write([]byte(msg)); err != nil {
		u.t.Fatalf("%s ua: write: %v", u.transport, err)
	}
}

// headerLines returns the header lines of a message (folding not handled:
// gopbx does not fold).
func headerLines(msg string) []string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	var out []string
	for _, l := range lines[1:] {
		if strings.Contains(l, ":") {
			out = append(out, l)
		}
	}
	return out
}

// headerValue returns the first value of header name (full name only).
func headerValue(msg, name string) string {
	for _, l := range headerLines(msg) {
		k, v, _ := strings.Cut(l, ":")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func statusCode(msg string) int {
	f := strings.Fields(msg)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// testCert makes a self-signed certificate for localhost and 127.0.0.0/8
// addresses; it returns PEM cert and key and a pool trusting the cert.
func testCert(t *testing.T) (certPEM, keyPEM string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "gopbx test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"},
	}
	for i := 121; i <= 129; i++ {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IPv4(127, 0, 0, byte(i)))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(certPEM))
	return certPEM, keyPEM, roots
}
