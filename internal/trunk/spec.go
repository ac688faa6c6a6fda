package trunk

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/config/pjsipconf"
	"github.com/gopbx/gopbx/internal/config/sipconf"
	"github.com/gopbx/gopbx/internal/endpoint"
)

// chan_sip defaults for [general] registertimeout and registerattempts.
const (
	DefaultRegisterTimeout  = 20 * time.Second
	DefaultRegisterAttempts = 0 // retry forever
)

// Spec is one outbound registration, whichever file declared it. Two
// Specs that compare equal describe the same client, so a reload keeps it.
type Spec struct {
	Tech endpoint.Tech
	Name string // pjsip registration id; sip.conf peer? name, else user@host[:port]
	Pos  string // file:line, for logs

	Server      string // Request-URI: sip:host[:port] (pjsip server_uri)
	AOR         string // From and To: sip:user@domain (pjsip client_uri)
	ContactUser string // sip.conf /extension (default "s"), pjsip contact_user (default "s")
	Transport   string // UDP or TCP
	Local       string // our listener, ip:port; requests leave from it and the Contact names it
	Addr        string // host:port to send to; empty: Server's host and port
	Proxy       string // outbound proxy, host[:port]; empty: send to Server
	Route       string // Route header value for a loose-routing pjsip outbound_proxy

	Username string // digest user; empty: no credentials
	Password string
	AuthName string // pjsip outbound_auth object, for the console

	Expiry     time.Duration // requested lifetime
	Retry      time.Duration // after a timeout or temporary failure
	Forbidden  time.Duration // after 403; 0: stop (Rejected)
	Fatal      time.Duration // after other permanent failures; 0: stop
	MaxRetries int           // consecutive failures before giving up; 0: never
	// AuthPermanent stops the client when the server refuses our
	// credentials (a second challenge); otherwise it retries after Retry.
	AuthPermanent bool
	InitialDelay  time.Duration // pjsip max_random_initial_delay (upper bound)
	UserAgent     string
}

// Host is the server's host:port as chan_sip's "sip show registry" shows it.
func (s Spec) Host() string {
	if s.Addr != "" {
		return s.Addr
	}
	var u sip.Uri
	if err := sip.ParseUri(s.Server, &u); err != nil {
		return s.Server
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if strings.EqualFold(s.Transport, "TLS") {
			port = 5061
		}
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// User is the AOR's user part.
func (s Spec) User() string {
	var u sip.Uri
	if err := sip.ParseUri(s.AOR, &u); err != nil {
		return ""
	}
	return u.User
}

// FromConfig builds the Specs of every registration in cfg. Registrations
// that cannot run (a bad URI, a transport gopbx does not listen on) are
// returned as errors citing file:line; the others still run.
func FromConfig(cfg *pbxconf.PBX) ([]Spec, []error) {
	var specs []Spec
	var errs []error
	for _, r := range cfg.Registrations {
		var s Spec
		var err error
		switch {
		case r.PJSIP != nil:
			s, err = pjsipSpec(cfg, r.PJSIP)
		case r.SIP != nil:
			s, err = sipSpec(cfg, r.SIP)
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("trunk: %s: registration %s: %w", r.Pos, r.Name, err))
			continue
		}
		s.Tech, s.Name, s.Pos = r.Tech, r.Name, r.Pos.String()
		s.UserAgent = cfg.UserAgent
		specs = append(specs, s)
	}
	return specs, errs
}

func sipSpec(cfg *pbxconf.PBX, r *sipconf.Register) (Spec, error) {
	g := &cfg.SIP.General
	domain := hostPort(r.Host, 0, 0)
	if r.Domain != "" {
		domain = hostPort(r.Domain, r.DomainPort, 0)
	}
	// chan_sip's Request-URI is sip:domain when the line names one (the
	// REGISTER still goes to host:port).
	server := "sip:" + hostPort(r.Host, r.Port, 5060)
	if r.Domain != "" {
		server = "sip:" + domain
	}
	s := Spec{
		Server:        server,
		Addr:          net.JoinHostPort(r.Host, strconv.Itoa(r.Port)),
		AOR:           "sip:" + r.User + "@" + domain,
		ContactUser:   r.Extension,
		Transport:     strings.ToUpper(r.Transport),
		Username:      r.User,
		Password:      r.Secret,
		Expiry:        r.Expiry,
		Retry:         DefaultRegisterTimeout,
		MaxRetries:    DefaultRegisterAttempts,
		AuthPermanent: true, // chan_sip stops at "No Authentication"
	}
	if r.AuthUser != "" {
		s.Username = r.AuthUser
	}
	if s.ContactUser == "" {
		s.ContactUser = "s"
	}
	if s.Expiry <= 0 {
		s.Expiry = g.DefaultExpiry
	}
	if v := g.Options["registertimeout"]; v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			s.Retry = time.Duration(n) * time.Second
		}
	}
	if v := g.Options["registerattempts"]; v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			s.MaxRetries = n
		}
	}
	if config.IsTrue(g.Options["register_retry_403"]) {
		s.Forbidden = s.Retry
	}
	// chan_sip sends a registration through the peer it names (peer?) or
	// the peer whose name is the host, taking its outboundproxy.
	peerName := r.Peer
	if peerName == "" {
		peerName = r.Host
	}
	if p := cfg.SIP.Peer(peerName); p != nil {
		if p.OutboundProxy != "" {
			s.Proxy = proxyHostPort(p.OutboundProxy)
		}
		if s.Password == "" && r.Peer != "" {
			s.Password = p.Secret
		}
	}
	if s.Proxy == "" && g.Options["outboundproxy"] != "" {
		s.Proxy = proxyHostPort(g.Options["outboundproxy"])
	}
	local, err := listenerFor(cfg, "", r.Transport)
	if err != nil {
		return s, err
	}
	s.Local = local
	return s, nil
}

func pjsipSpec(cfg *pbxconf.PBX, r *pjsipconf.Registration) (Spec, error) {
	var server, client sip.Uri
	if err := sip.ParseUri(r.ServerURI, &server); err != nil {
		return Spec{}, fmt.Errorf("server_uri %q: %w", r.ServerURI, err)
	}
	if err := sip.ParseUri(r.ClientURI, &client); err != nil {
		return Spec{}, fmt.Errorf("client_uri %q: %w", r.ClientURI, err)
	}
	proto := "udp"
	if server.UriParams != nil {
		if t, ok := server.UriParams.Get("transport"); ok && t != "" {
			proto = strings.ToLower(t)
		}
	}
	if server.IsEncrypted() {
		proto = "tls"
	}
	if r.Transport != "" && cfg.PJSIP != nil {
		for _, t := range cfg.PJSIP.Transports {
			if t.ID == r.Transport {
				proto = t.Protocol
			}
		}
	}
	s := Spec{
		Server:        strings.TrimSpace(r.ServerURI),
		AOR:           strings.TrimSpace(r.ClientURI),
		ContactUser:   r.ContactUser,
		Transport:     strings.ToUpper(proto),
		Expiry:        r.Expiration,
		Retry:         r.RetryInterval,
		Forbidden:     r.ForbiddenRetryInterval,
		Fatal:         r.FatalRetryInterval,
		MaxRetries:    r.MaxRetries,
		AuthPermanent: r.AuthRejectionPermanent,
		InitialDelay:  r.MaxRandomInitialDelay,
	}
	if s.ContactUser == "" {
		s.ContactUser = "s"
	}
	if len(r.OutboundAuth) > 0 && cfg.PJSIP != nil {
		s.AuthName = r.OutboundAuth[0]
		if a := cfg.PJSIP.Auth(r.OutboundAuth[0]); a != nil {
			s.Username, s.Password = a.Username, a.Password
		}
	}
	if p := strings.TrimSpace(r.OutboundProxy); p != "" {
		s.Proxy = proxyHostPort(p)
		if strings.Contains(p, ";lr") {
			s.Route = "<" + strings.Trim(p, "<>") + ">"
		}
	}
	local, err := listenerFor(cfg, r.Transport, proto)
	if err != nil {
		return s, err
	}
	s.Local = local
	return s, nil
}

// listenerFor picks our socket for a registration: the named pjsip
// transport, else the first listener of the protocol.
func listenerFor(cfg *pbxconf.PBX, name, proto string) (string, error) {
	if name != "" {
		for _, l := range cfg.Listeners {
			if l.Name == name {
				return l.Addr, nil
			}
		}
	}
	for _, l := range cfg.Listeners {
		if strings.EqualFold(l.Proto, proto) {
			return l.Addr, nil
		}
	}
	return "", fmt.Errorf("no %s listener", proto)
}

// proxyHostPort reduces an outbound proxy (sip:host:port;lr, host:port,
// host) to host[:port].
func proxyHostPort(v string) string {
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if strings.HasPrefix(strings.ToLower(v), "sip:") || strings.HasPrefix(strings.ToLower(v), "sips:") {
		var u sip.Uri
		if err := sip.ParseUri(v, &u); err == nil {
			return hostPort(u.Host, u.Port, 0)
		}
	}
	if i := strings.IndexAny(v, ";,"); i >= 0 {
		v = v[:i]
	}
	return v
}

func hostPort(host string, port, def int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if port == 0 || port == def {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}
