package sipconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// defaultCodecs is chan_sip's sip_set_default_format_capabilities.
var defaultCodecs = []string{"ulaw", "alaw", "gsm", "h263"}

func defaultGeneral() General {
	return General{
		Context:          DefaultContext,
		AllowGuest:       false,
		AlwaysAuthReject: true,
		UserAgent:        DefaultUserAgent,
		Realm:            DefaultRealm,
		MinExpiry:        DefaultMinExpiry,
		MaxExpiry:        DefaultMaxExpiry,
		DefaultExpiry:    DefaultDefaultExpiry,
		QualifyFreq:      DefaultQualifyFreq,
		SRVLookup:        true,
		CallerID:         "asterisk",
		ExternRefresh:    10 * time.Second,
		Options:          map[string]string{},
		PeerDefaults: Peer{
			Context:      DefaultContext,
			NAT:          NAT{AutoForceRport: true}, // chan_sip's default since Asterisk 13
			DTMFMode:     "rfc2833",
			DirectMedia:  false, // gopbx anchors media unless directmedia=yes is set
			Allow:        append([]string(nil), defaultCodecs...),
			Transports:   []string{"udp"},
			QualifyFreq:  DefaultQualifyFreq,
			MOHInterpret: "default",
			Options:      map[string]string{},
		},
	}
}

// loader carries the state of one FromFile call.
type loader struct {
	diags config.Diags
	g     *General

	defaultQualify time.Duration // [general] qualify=, what a peer's qualify=yes means

	bindHost    string
	bindPort    int // from bindaddr=host:port
	bindportOpt int // from bindport=
	tcpBind     string
	tlsBind     string
}

func (l *loader) warnf(pos config.Pos, format string, args ...any) {
	l.diags.Warnf(pos, format, args...)
}

// FromFile builds the typed configuration from a parsed sip.conf. Like
// chan_sip it never rejects the file: problems are warnings, and a peer
// that chan_sip would drop (no type=, a bad ACL) is left out.
func FromFile(f *config.File) (*Config, []config.Diag, error) {
	c := &Config{Path: f.Path, General: defaultGeneral()}
	l := &loader{g: &c.General}

	generals := f.Named("general")
	if len(generals) > 0 {
		c.General.Pos = generals[0].Pos
		l.general(generals[0])
		for _, extra := range generals[1:] {
			l.warnf(extra.Pos, "second [general] ignored, as chan_sip does (the first is at %s); use [general](+) to add to it", generals[0].Pos)
		}
	}
	l.finishGeneral()

	for _, s := range f.Named("authentication") {
		for _, v := range s.Vars {
			if strings.EqualFold(v.Name, "auth") {
				c.Auth = append(c.Auth, v)
			} else {
				l.warnf(v.Pos, "unknown option %q in [authentication]", v.Name)
			}
		}
	}

	byName := map[string]*Peer{}
	for _, s := range f.All() {
		if strings.EqualFold(s.Name, "general") || strings.EqualFold(s.Name, "authentication") {
			continue
		}
		prev := byName[s.Name]
		if prev != nil {
			l.warnf(s.Pos, "peer [%s] defined again (first at %s); its options are applied on top of the first, as chan_sip does", s.Name, prev.Pos)
		}
		p := l.peer(s, prev)
		switch {
		case p == nil && prev != nil:
			c.Peers = removePeer(c.Peers, prev)
			delete(byName, s.Name)
		case p != nil && prev == nil:
			byName[s.Name] = p
			c.Peers = append(c.Peers, p)
		}
	}
	return c, l.diags.List(), nil
}

func removePeer(list []*Peer, p *Peer) []*Peer {
	out := list[:0]
	for _, q := range list {
		if q != p {
			out = append(out, q)
		}
	}
	return out
}

// general applies [general]: its own options, and the peer options it sets
// as defaults for every peer.
func (l *loader) general(s *config.Section) {
	g := l.g
	for _, v := range s.Vars {
		name := strings.ToLower(v.Name)
		known := false
		if o, ok := peerOpts[name]; ok && o.general {
			known = true
			if o.fn != nil {
				if err := o.fn(l, &g.PeerDefaults, v); err != nil {
					l.warnf(v.Pos, "%v", err)
				}
			}
		}
		if fn, ok := generalOpts[name]; ok {
			known = true
			if fn != nil {
				fn(l, g, v)
			}
		}
		if !known {
			l.warnf(v.Pos, "unknown option %q in [general]", v.Name)
			continue
		}
		setOption(g.Options, name, v.Value, repeatableGeneral[name])
	}
}

func (l *loader) finishGeneral() {
	g := l.g
	host := l.bindHost
	if host == "" {
		host = "0.0.0.0"
	}
	port := l.bindPort
	if l.bindportOpt != 0 {
		port = l.bindportOpt
	}
	if port == 0 {
		port = DefaultPort
	}
	g.UDPBindAddr = config.JoinHostPort(host, port)
	if g.TCPEnable {
		g.TCPBindAddr = g.UDPBindAddr
		if l.tcpBind != "" {
			g.TCPBindAddr = withDefaultPort(l.tcpBind, DefaultPort)
		}
	}
	if g.TLSEnable {
		g.TLSBindAddr = config.JoinHostPort(host, DefaultTLSPort)
		if l.tlsBind != "" {
			g.TLSBindAddr = withDefaultPort(l.tlsBind, DefaultTLSPort)
		}
	}
	for i := range g.Registers {
		if g.Registers[i].Expiry == 0 {
			g.Registers[i].Expiry = g.DefaultExpiry
		}
	}
}

func withDefaultPort(hostport string, def int) string {
	h, p, err := config.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if p == 0 {
		p = def
	}
	return config.JoinHostPort(h, p)
}

// peer builds one peer from defaults (or on top of prev for a repeated
// section). It returns nil when chan_sip would skip the section.
func (l *loader) peer(s *config.Section, prev *Peer) *Peer {
	var p *Peer
	if prev != nil {
		p = prev
	} else {
		p = l.g.PeerDefaults.clone()
		p.Name, p.Pos, p.Type = s.Name, s.Pos, ""
	}
	drop := false
	for _, v := range s.Vars {
		name := strings.ToLower(v.Name)
		o, ok := peerOpts[name]
		if !ok {
			l.warnf(v.Pos, "unknown option %q", v.Name)
			continue
		}
		if o.fn != nil {
			if err := o.fn(l, p, v); err != nil {
				var dropErr dropPeer
				if errors.As(err, &dropErr) {
					l.warnf(v.Pos, "%v; peer [%s] ignored, as chan_sip does", err, s.Name)
					drop = true
					continue
				}
				l.warnf(v.Pos, "%v", err)
			}
		}
		setOption(p.Options, name, v.Value, o.repeat)
	}
	switch p.Type {
	case "friend", "peer", "user":
	case "":
		l.warnf(s.Pos, "[%s] has no type=; ignored, as chan_sip does", s.Name)
		return nil
	default:
		v, _ := s.Var("type")
		l.warnf(v.Pos, "unknown type %q for [%s]; ignored, as chan_sip does", p.Type, s.Name)
		return nil
	}
	if drop {
		return nil
	}
	return p
}

// dropPeer is an error after which chan_sip deletes the peer.
type dropPeer struct{ error }

// Value helpers. Each reports a problem as an error the caller turns into a
// warning at the variable's position; the target keeps its previous value.

func boolValue(v config.Var) (bool, error) {
	b, err := config.ParseBool(v.Value)
	if err != nil {
		return config.IsTrue(v.Value), fmt.Errorf("%s: %q is not yes or no; taken as no", v.Name, v.Value)
	}
	return b, nil
}

func intValue(v config.Var, min int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v.Value))
	if err != nil || n < min {
		return 0, fmt.Errorf("%s: %q is not a number >= %d", v.Name, v.Value, min)
	}
	return n, nil
}

func secondsValue(v config.Var, min int) (time.Duration, error) {
	n, err := intValue(v, min)
	return time.Duration(n) * time.Second, err
}
