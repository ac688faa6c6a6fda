package sipconf

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/endpoint"
)

// mappedOptions are the peer options that have an Endpoint field; the others
// go to Endpoint.Extra. secret and md5secret stay out of Extra on purpose.
var mappedOptions = map[string]bool{
	"type": true, "host": true, "port": true, "secret": true, "md5secret": true,
	"context": true, "nat": true, "insecure": true, "qualify": true, "qualifyfreq": true,
	"dtmfmode": true, "directmedia": true, "canreinvite": true, "fromuser": true,
	"fromdomain": true, "outboundproxy": true, "callerid": true, "call-limit": true, "allow": true,
	"disallow": true, "accountcode": true, "language": true, "mohsuggest": true,
}

// Endpoints maps every peer to the unified endpoint model, in file order.
//
// chan_sip semantics carried over:
//   - the authentication user is the peer name (chan_sip matches the From
//     user); a username= that differs is accepted as a second user name;
//     md5secret, when set, replaces secret and only works for MD5 challenges;
//   - host=dynamic peers register; type=user sections never do;
//   - one contact per peer (MaxContacts 1, RemoveExisting), with the
//     expiry limits of [general];
//   - qualify=yes is a 2 s timeout, qualify=N is N ms, every qualifyfreq;
//   - nat force_rport (also nat=yes and chan_sip's default auto_force_rport)
//     answers to the source port and uses the source address instead of the
//     Contact, as chan_sip does; comedia and auto_comedia set NAT.Comedia.
//     gopbx applies the auto_ modes unconditionally, which gives the same
//     result when there is no NAT;
//   - a peer with a literal IP host= and insecure=port is identified by its
//     source address alone (a /32 or /128 Identify prefix).
func (c *Config) Endpoints() []*endpoint.Endpoint {
	if c == nil {
		return nil
	}
	out := make([]*endpoint.Endpoint, 0, len(c.Peers))
	for _, p := range c.Peers {
		out = append(out, c.endpoint(p))
	}
	return out
}

func (c *Config) endpoint(p *Peer) *endpoint.Endpoint {
	g := &c.General
	e := &endpoint.Endpoint{
		Tech:           endpoint.TechSIP,
		Name:           p.Name,
		Pos:            endpoint.Pos{File: p.Pos.File, Line: p.Pos.Line},
		Type:           p.Type,
		Context:        p.Context,
		Credentials:    p.credentials(),
		Dynamic:        p.Dynamic && p.Type != "user",
		Host:           p.Host,
		Port:           p.Port,
		AORs:           []string{p.Name},
		MaxContacts:    1,
		RemoveExisting: true,
		MinExpiry:      g.MinExpiry,
		MaxExpiry:      g.MaxExpiry,
		DefaultExpiry:  g.DefaultExpiry,
		NAT: endpoint.NAT{
			ForceRport:     p.NAT.ForceRport || p.NAT.AutoForceRport,
			Comedia:        p.NAT.Comedia || p.NAT.AutoComedia,
			RewriteContact: p.NAT.ForceRport || p.NAT.AutoForceRport,
		},
		Transport:   "udp",
		Allow:       slices.Clone(p.Allow),
		DTMFMode:    p.DTMFMode,
		DirectMedia: p.DirectMedia,
		FromUser:    p.FromUser,
		FromDomain:  p.FromDomain,
		CallerID:    p.CallerID,
		CallLimit:   p.CallLimit,
		Insecure:    slices.Clone(p.Insecure),
		AccountCode: p.AccountCode,
		Language:    p.Language,
		MOH:         p.MOHSuggest,
		Extra:       map[string]string{},
	}
	if e.MOH == "" {
		e.MOH = p.MOHInterpret
	}
	e.OutboundProxy = p.OutboundProxy
	if secret := cmp.Or(p.RemoteSecret, p.Secret); secret != "" || p.MD5Secret != "" {
		// chan_sip answers a peer's challenge as defaultuser (username=),
		// else the peer name, with remotesecret, else secret/md5secret.
		c := endpoint.Credential{Username: cmp.Or(p.DefaultUser, p.Name), Password: secret}
		if secret == "" {
			c.HA1 = p.MD5Secret
		}
		e.OutboundAuth = []endpoint.Credential{c}
	}
	if len(p.Transports) > 0 {
		e.Transport = p.Transports[0]
	}
	if p.Qualify > 0 {
		e.QualifyTimeout = p.Qualify
		e.QualifyFrequency = p.QualifyFreq
	}
	if p.Host != "" && p.Type != "user" {
		contact := "sip:" + hostPort(p.Host, p.Port)
		if e.Transport != "udp" {
			contact += ";transport=" + e.Transport
		}
		e.StaticContacts = []string{contact}
		if addr, err := netip.ParseAddr(p.Host); err == nil && slices.Contains(p.Insecure, "port") {
			addr = addr.Unmap()
			e.Identify = []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}
		}
	}
	for k, v := range p.Options {
		if !mappedOptions[k] {
			e.Extra[k] = v
		}
	}
	if config.IsTrue(e.Extra["encryption"]) {
		e.MediaEncryption = "sdes" // chan_sip encryption=yes: SDES SRTP
	}
	if e.Type == "user" {
		e.Host, e.Port = "", 0
	}
	return e
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == 0 {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// credentials are the user names the peer may authenticate as.
func (p *Peer) credentials() []endpoint.Credential {
	if p.Secret == "" && p.MD5Secret == "" {
		return nil
	}
	names := []string{p.Name}
	if p.Username != "" && p.Username != p.Name {
		names = append(names, p.Username)
	}
	out := make([]endpoint.Credential, 0, len(names))
	for _, n := range names {
		c := endpoint.Credential{Username: n}
		if p.MD5Secret != "" {
			c.HA1 = p.MD5Secret
		} else {
			c.Password = p.Secret
		}
		out = append(out, c)
	}
	return out
}
