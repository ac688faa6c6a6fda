package pbxconf

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/config/pjsipconf"
	"github.com/gopbx/gopbx/internal/config/sipconf"
	"github.com/gopbx/gopbx/internal/endpoint"
)

// Defaults for a PBX whose files do not say otherwise.
const (
	DefaultUserAgent = "gopbx"
	DefaultRealm     = "asterisk"
	DefaultContext   = "default"
	DefaultListen    = "0.0.0.0:5060"
)

// PBX is the SIP side of a configuration directory: sip.conf and
// pjsip.conf merged into one view.
type PBX struct {
	Dir   string
	SIP   *sipconf.Config   // nil without sip.conf
	PJSIP *pjsipconf.Config // nil without pjsip.conf

	// Endpoints are the pjsip endpoints first, then the sip.conf peers, so
	// a pjsip endpoint wins an AOR or user name both files claim.
	Endpoints *endpoint.Set
	// Listeners are the pjsip transports then the sip.conf listeners, with
	// the same protocol and address merged into the first that named it.
	Listeners []Listener

	UserAgent        string
	Realm            string
	AllowGuest       bool // sip.conf allowguest (gopbx default no), or a pjsip endpoint named "anonymous"
	AlwaysAuthReject bool
	DefaultContext   string // sip.conf [general] context=, else "default"

	// Server-wide NAT settings, for listeners that set none: the first pjsip
	// transport's external addresses, else sip.conf externaddr/externhost;
	// LocalNets is the union of every local_net= and localnet=.
	ExternSignaling string
	ExternMedia     string
	LocalNets       []netip.Prefix

	// Registrations are the outbound registrations, pjsip first, kept as
	// parsed for the trunk code.
	Registrations []Registration

	// ClientTLS is for TLS connections gopbx opens, from the first TLS
	// listener's certificate and verify_server; nil without TLS listeners.
	ClientTLS *tls.Config

	http httpConf // http.conf's WebSocket listeners
}

// Listener is one address to take SIP on.
type Listener struct {
	Name  string // pjsip transport name, or sip-udp, sip-tcp, sip-tls
	Proto string // udp, tcp, tls, ws, wss
	Addr  string // host:port
	Pos   config.Pos

	ExternalSignaling string // host[:port] to put in Via/Contact for peers outside LocalNets
	ExternalMedia     string // address to put in SDP for them
	LocalNets         []netip.Prefix
	// TLS is set for tls and wss listeners (and may be for others, unused).
	TLS *TLS
}

// Registration is one outbound registration; exactly one of SIP and PJSIP is set.
type Registration struct {
	Tech  endpoint.Tech
	Name  string // pjsip registration name, or the sip.conf peer?, or user@host
	Pos   config.Pos
	SIP   *sipconf.Register
	PJSIP *pjsipconf.Registration
}

// Load reads sip.conf and pjsip.conf from dir, whichever exist. Relative
// #include names resolve against dir. A fatal problem in either file is
// returned as an error citing file:line (a *config.Diag); callers that
// reload keep their previous PBX then. Warnings from both files come back in
// the []config.Diag.
func Load(dir string) (*PBX, []config.Diag, error) {
	p := &PBX{Dir: dir}
	var diags []config.Diag

	sip, d, err := sipconf.Load(filepath.Join(dir, "sip.conf"), config.WithDir(dir))
	diags = append(diags, d...)
	switch {
	case err == nil:
		p.SIP = sip
	case !isMissing(err):
		return nil, diags, err
	}

	pj, d, err := pjsipconf.Load(filepath.Join(dir, "pjsip.conf"), config.WithDir(dir))
	diags = append(diags, d...)
	switch {
	case err == nil:
		p.PJSIP = pj
	case !isMissing(err):
		return nil, diags, err
	}

	h, d, err := loadHTTP(dir)
	diags = append(diags, d...)
	if err != nil {
		return nil, diags, err
	}
	p.http = h

	p.build()
	d, err = p.loadTLS()
	diags = append(diags, d...)
	if err != nil {
		return nil, diags, err
	}
	return p, diags, nil
}

// isMissing tells "the file itself is absent" from other errors; a missing
// #include is a *config.Diag and is not.
func isMissing(err error) bool {
	var d *config.Diag
	return errors.Is(err, fs.ErrNotExist) && !errors.As(err, &d)
}

func (p *PBX) build() {
	var eps []*endpoint.Endpoint
	if p.PJSIP != nil {
		eps = append(eps, p.PJSIP.Endpoints()...)
	}
	if p.SIP != nil {
		eps = append(eps, p.SIP.Endpoints()...)
	}
	p.Endpoints = endpoint.NewSet(eps)

	p.UserAgent, p.Realm = DefaultUserAgent, DefaultRealm
	p.AlwaysAuthReject = true
	p.DefaultContext = DefaultContext
	var sipUA, sipRealm, pjUA, pjRealm string
	if p.SIP != nil {
		g := &p.SIP.General
		sipUA, sipRealm = g.UserAgent, g.Realm
		p.AllowGuest = g.AllowGuest
		p.AlwaysAuthReject = g.AlwaysAuthReject
		p.DefaultContext = g.Context
	}
	if p.PJSIP != nil {
		pjUA, pjRealm = p.PJSIP.Global.UserAgent, p.PJSIP.Global.DefaultRealm
		if p.PJSIP.Endpoint("anonymous") != nil {
			p.AllowGuest = true
		}
	}
	p.UserAgent = pick(DefaultUserAgent, pjUA, sipUA)
	p.Realm = pick(DefaultRealm, pjRealm, sipRealm)

	p.buildListeners()
	p.buildNAT()
	p.buildRegistrations()
}

// pick returns the first value that is set and differs from def.
func pick(def string, values ...string) string {
	for _, v := range values {
		if v != "" && v != def {
			return v
		}
	}
	return def
}

func (p *PBX) buildListeners() {
	var all []Listener
	if p.PJSIP != nil {
		for _, t := range p.PJSIP.Transports {
			if t.Protocol == "flow" {
				continue
			}
			// Asterisk serves WebSockets from its HTTP server and ignores a
			// ws/wss transport's bind; with an enabled http.conf so do we.
			if p.http.ws != nil && (t.Protocol == "ws" || t.Protocol == "wss") {
				continue
			}
			l := Listener{
				Name:          t.ID,
				Proto:         t.Protocol,
				Addr:          t.Bind,
				Pos:           t.Pos,
				ExternalMedia: t.ExternalMediaAddress,
				LocalNets:     slices.Clone(t.LocalNets),
			}
			if t.CertFile != "" || t.Protocol == "tls" || t.Protocol == "wss" {
				l.TLS = &TLS{
					CertFile: t.CertFile, CertPos: t.CertPos,
					KeyFile: t.PrivKeyFile, KeyPos: t.PrivKeyPos,
					CAFile: t.CAListFile, CAPos: t.CAListPos,
					Method: t.Method, Ciphers: t.Cipher,
					VerifyClient: t.VerifyClient, RequireClientCert: t.RequireClientCert,
					VerifyServer: t.VerifyServer,
				}
			}
			if t.ExternalSignalingAddress != "" {
				l.ExternalSignaling = t.ExternalSignalingAddress
				if t.ExternalSignalingPort != 0 {
					l.ExternalSignaling = config.JoinHostPort(t.ExternalSignalingAddress, t.ExternalSignalingPort)
				}
			}
			all = append(all, l)
		}
	}
	if p.SIP != nil {
		g := &p.SIP.General
		extern := g.ExternAddr
		if extern == "" {
			extern = g.ExternHost
		}
		media := ""
		if extern != "" {
			if h, _, err := config.SplitHostPort(extern); err == nil {
				media = h
			}
		}
		base := Listener{Pos: g.Pos, ExternalSignaling: extern, ExternalMedia: media, LocalNets: slices.Clone(g.LocalNets)}
		udp := base
		udp.Name, udp.Proto, udp.Addr = "sip-udp", "udp", g.UDPBindAddr
		all = append(all, udp)
		if g.TCPEnable {
			tcp := base
			tcp.Name, tcp.Proto, tcp.Addr = "sip-tcp", "tcp", g.TCPBindAddr
			tcp.ExternalSignaling = externWithPort(extern, g.ExternTCPPort)
			all = append(all, tcp)
		}
		if g.TLSEnable {
			tl := base
			tl.Name, tl.Proto, tl.Addr = "sip-tls", "tls", g.TLSBindAddr
			tl.ExternalSignaling = externWithPort(extern, g.ExternTLSPort)
			tl.TLS = &TLS{
				CertFile: g.TLSCertFile, CertPos: g.TLSCertPos,
				KeyFile: g.TLSPrivKey, KeyPos: g.TLSKeyPos,
				CAFile: g.TLSCAFile, CAPos: g.TLSCAPos,
				Method: g.TLSMethod, VerifyClient: g.TLSVerifyClient,
				VerifyServer: !g.TLSDontVerifyServer,
			}
			if g.TLSCipher != "" {
				tl.TLS.Ciphers = []string{g.TLSCipher}
			}
			all = append(all, tl)
		}
	}
	for _, h := range []*Listener{p.http.ws, p.http.wss} {
		if h != nil {
			all = append(all, *h)
		}
	}
	if len(all) == 0 {
		all = []Listener{
			{Name: "default-udp", Proto: "udp", Addr: DefaultListen},
			{Name: "default-tcp", Proto: "tcp", Addr: DefaultListen},
		}
	}
	p.Listeners = nil
	for _, l := range all {
		i := slices.IndexFunc(p.Listeners, func(m Listener) bool { return m.Proto == l.Proto && m.Addr == l.Addr })
		if i < 0 {
			p.Listeners = append(p.Listeners, l)
			continue
		}
		m := &p.Listeners[i]
		if m.ExternalSignaling == "" {
			m.ExternalSignaling = l.ExternalSignaling
		}
		if m.ExternalMedia == "" {
			m.ExternalMedia = l.ExternalMedia
		}
		if m.TLS == nil || m.TLS.CertFile == "" {
			m.TLS = l.TLS
		}
		m.LocalNets = unionPrefixes(m.LocalNets, l.LocalNets)
	}
}

// externWithPort replaces the port of a sip.conf extern address with
// externtcpport/externtlsport when one is set.
func externWithPort(extern string, port int) string {
	if extern == "" || port == 0 {
		return extern
	}
	h, _, err := config.SplitHostPort(extern)
	if err != nil {
		return extern
	}
	return config.JoinHostPort(h, port)
}

func unionPrefixes(a, b []netip.Prefix) []netip.Prefix {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

func (p *PBX) buildNAT() {
	for _, l := range p.Listeners {
		if p.ExternSignaling == "" {
			p.ExternSignaling = l.ExternalSignaling
		}
		if p.ExternMedia == "" {
			p.ExternMedia = l.ExternalMedia
		}
		p.LocalNets = unionPrefixes(p.LocalNets, l.LocalNets)
	}
}

func (p *PBX) buildRegistrations() {
	if p.PJSIP != nil {
		for _, r := range p.PJSIP.Registrations {
			p.Registrations = append(p.Registrations, Registration{Tech: endpoint.TechPJSIP, Name: r.ID, Pos: r.Pos, PJSIP: r})
		}
	}
	if p.SIP != nil {
		for i := range p.SIP.General.Registers {
			r := &p.SIP.General.Registers[i]
			name := r.Peer
			if name == "" {
				name = r.User + "@" + r.Host
				if r.Port != 5060 {
					name += ":" + strconv.Itoa(r.Port)
				}
			}
			p.Registrations = append(p.Registrations, Registration{Tech: endpoint.TechSIP, Name: name, Pos: r.Pos, SIP: r})
		}
	}
}
