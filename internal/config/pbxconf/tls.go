package pbxconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gopbx/gopbx/internal/config"
)

// TLS is the certificate and policy of a tls or wss listener. File names
// are as written; relative ones are resolved against the configuration
// directory.
type TLS struct {
	CertFile, KeyFile, CAFile string
	CertPos, KeyPos, CAPos    config.Pos // where each file was named
	Method                    string     // pjsip method= / sip.conf tlsclientmethod
	Ciphers                   []string
	VerifyClient              bool // check a client certificate when one is sent
	RequireClientCert         bool // refuse clients without one
	VerifyServer              bool // outbound: check the server's certificate

	// Config is built by Load from the files above; a listener serves it.
	Config *tls.Config
}

// loadTLS reads the certificate of every tls and wss listener and builds
// ClientTLS. A missing or unreadable file is a fatal *config.Diag at the
// line that named it, so a reload keeps the running configuration.
func (p *PBX) loadTLS() ([]config.Diag, error) {
	var ds config.Diags
	kept := p.Listeners[:0]
	for i := range p.Listeners {
		l := &p.Listeners[i]
		if l.Proto != "tls" && l.Proto != "wss" {
			kept = append(kept, *l)
			continue
		}
		if l.TLS == nil || l.TLS.CertFile == "" {
			if l.Proto == "wss" {
				// Valid in Asterisk, whose certificate for WSS is http.conf's.
				ds.Warnf(l.Pos, "wss transport [%s] has no cert_file and http.conf serves no TLS; not listening", l.Name)
				continue
			}
			return ds.List(), config.Errorf(l.Pos, "%s listener [%s] needs a certificate (cert_file, tlscertfile)", l.Proto, l.Name)
		}
		if err := l.TLS.build(p.Dir, l.Pos, &ds); err != nil {
			return ds.List(), err
		}
		if p.ClientTLS == nil {
			p.ClientTLS = l.TLS.client()
		}
		kept = append(kept, *l)
	}
	p.Listeners = kept
	return ds.List(), nil
}

func (t *TLS) build(dir string, at config.Pos, ds *config.Diags) error {
	posOr := func(p config.Pos) config.Pos {
		if p.File == "" {
			return at
		}
		return p
	}
	certPEM, err := os.ReadFile(resolve(dir, t.CertFile))
	if err != nil {
		return config.Errorf(posOr(t.CertPos), "certificate: %v", err)
	}
	// pjsip allows the key inside the certificate file.
	keyPEM, keyPos := certPEM, t.CertPos
	if t.KeyFile != "" {
		keyPos = t.KeyPos
		if keyPEM, err = os.ReadFile(resolve(dir, t.KeyFile)); err != nil {
			return config.Errorf(posOr(keyPos), "private key: %v", err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return config.Errorf(posOr(keyPos), "certificate %s and key %s: %v", t.CertFile, cmpOr(t.KeyFile, t.CertFile), err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	if t.CAFile != "" {
		pem, err := os.ReadFile(resolve(dir, t.CAFile))
		if err != nil {
			return config.Errorf(posOr(t.CAPos), "CA list: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return config.Errorf(posOr(t.CAPos), "CA list %s: no PEM certificate in it", t.CAFile)
		}
		c.ClientCAs, c.RootCAs = pool, pool
	}
	switch {
	case t.RequireClientCert && t.VerifyClient:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	case t.RequireClientCert:
		c.ClientAuth = tls.RequireAnyClientCert
	case t.VerifyClient:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	c.MinVersion = minVersion(t.Method, at, ds)
	c.CipherSuites = cipherSuites(t.Ciphers, at, ds)
	t.Config = c
	return nil
}

// client is the configuration for connections gopbx opens (trunks): our
// certificate for servers that ask, and no server check unless verify_server
// (res_pjsip's default) or tlsdontverifyserver=no said so.
func (t *TLS) client() *tls.Config {
	c := t.Config.Clone()
	c.ClientAuth, c.ClientCAs = tls.NoClientCert, nil
	c.InsecureSkipVerify = !t.VerifyServer
	return c
}

func resolve(dir, name string) string {
	if filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// minVersion maps pjsip's method= and chan_sip's tlsclientmethod to the
// lowest version offered; Go has no SSLv2/v3, and newer versions stay
// allowed (pjproject's "tlsv1_2" is exact; a floor is what people mean).
func minVersion(method string, at config.Pos, ds *config.Diags) uint16 {
	switch strings.ToLower(strings.TrimSpace(method)) {
	case "", "unspecified", "default", "sslv23":
		return 0
	case "tlsv1":
		return tls.VersionTLS10
	case "tlsv1_1":
		return tls.VersionTLS11
	case "tlsv1_2":
		return tls.VersionTLS12
	case "tlsv1_3":
		return tls.VersionTLS13
	default:
		ds.Warnf(at, "TLS method %q is not available; using Go's defaults (TLS 1.2 and 1.3)", method)
		return 0
	}
}

// cipherSuites keeps the names Go knows (IANA names such as
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); OpenSSL-style lists ("ALL",
// "DES-CBC3-SHA") are warned about and Go's defaults are used.
func cipherSuites(names []string, at config.Pos, ds *config.Diags) []uint16 {
	if len(names) == 0 {
		return nil
	}
	known := map[string]*tls.CipherSuite{}
	for _, s := range tls.CipherSuites() {
		known[s.Name] = s
	}
	var ids []uint16
	var unknown []string
	for _, n := range names {
		for _, f := range strings.FieldsFunc(n, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
			s, ok := known[strings.ToUpper(f)]
			switch {
			case !ok:
				unknown = append(unknown, f)
			case slices.Contains(s.SupportedVersions, tls.VersionTLS12):
				ids = append(ids, s.ID)
			}
			// TLS 1.3 suites are always on in Go: naming one changes nothing.
		}
	}
	if len(unknown) > 0 {
		ds.Warnf(at, "TLS cipher %s: not a Go cipher suite name (use IANA names); ignored", strings.Join(unknown, ", "))
	}
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// httpConf is Asterisk's http.conf [general]: where its HTTP server, and so
// SIP over WebSocket on /ws, listens.
type httpConf struct {
	ws, wss *Listener
}

// loadHTTP reads dir/http.conf if it exists. Like Asterisk, the server
// runs only with enabled=yes and a bindaddr.
func loadHTTP(dir string) (httpConf, []config.Diag, error) {
	var h httpConf
	f, diags, err := config.ParseFile(filepath.Join(dir, "http.conf"), config.WithDir(dir))
	if err != nil {
		if isMissing(err) {
			return h, diags, nil
		}
		return h, diags, err
	}
	g := f.Section("general")
	if g == nil {
		return h, diags, nil
	}
	var ds config.Diags
	ds.Append(diags)
	if v, ok := g.Var("enabled"); !ok || !config.IsTrue(v.Value) {
		return h, ds.List(), nil
	}
	bind, ok := g.Var("bindaddr")
	if !ok {
		ds.Warnf(g.Pos, "http.conf: enabled=yes without bindaddr; the HTTP server (and SIP over WebSocket) is off, as in Asterisk")
		return h, ds.List(), nil
	}
	host, port, err := config.SplitHostPort(bind.Value)
	if err != nil {
		return h, ds.List(), config.Errorf(bind.Pos, "bindaddr: %v", err)
	}
	if port == 0 {
		port = 8088
	}
	if v, ok := g.Var("bindport"); ok {
		if _, err := fmt.Sscan(v.Value, &port); err != nil || port <= 0 || port > 65535 {
			return h, ds.List(), config.Errorf(v.Pos, "bindport: %q is not a port number", v.Value)
		}
	}
	h.ws = &Listener{Name: "http", Proto: "ws", Addr: config.JoinHostPort(host, port), Pos: bind.Pos}
	if v, ok := g.Var("tlsenable"); ok && config.IsTrue(v.Value) {
		addr := config.JoinHostPort(host, 8089)
		if b, ok := g.Var("tlsbindaddr"); ok {
			th, tp, err := config.SplitHostPort(b.Value)
			if err != nil {
				return h, ds.List(), config.Errorf(b.Pos, "tlsbindaddr: %v", err)
			}
			if tp == 0 {
				tp = 8089
			}
			addr = config.JoinHostPort(th, tp)
		}
		t := &TLS{}
		if c, ok := g.Var("tlscertfile"); ok {
			t.CertFile, t.CertPos = strings.TrimSpace(c.Value), c.Pos
		}
		if k, ok := g.Var("tlsprivatekey"); ok {
			t.KeyFile, t.KeyPos = strings.TrimSpace(k.Value), k.Pos
		}
		if c, ok := g.Var("tlscipher"); ok {
			t.Ciphers = []string{c.Value}
		}
		h.wss = &Listener{Name: "https", Proto: "wss", Addr: addr, Pos: v.Pos, TLS: t}
	}
	return h, ds.List(), nil
}
