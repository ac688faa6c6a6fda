package sipserver

import (
	"net"
	"net/netip"
	"strconv"
)

// External is what a listener behind NAT tells peers outside its local
// networks (sip.conf externip/externaddr + localnet, pjsip transport
// external_signaling_address/_port, external_media_address, local_net).
type External struct {
	Signaling string // host[:port] for Via and Contact
	Media     string // address for SDP c= lines
	LocalNets []netip.Prefix
}

// SetExternal installs the external addresses per listener address
// (host:port as in Listener.Addr); a reload calls it again.
func (s *Server) SetExternal(byAddr map[string]External) {
	m := make(map[string]External, len(byAddr))
	for k, v := range byAddr {
		m[k] = v
	}
	s.external.Store(&m)
}

// external returns the settings for a peer at remote reached from local,
// when that peer is outside the listener's local networks.
func (s *Server) externalFor(local, remote string) (External, bool) {
	mp := s.external.Load()
	if mp == nil {
		return External{}, false
	}
	ext, ok := (*mp)[local]
	if !ok {
		// A TCP/TLS connection's local address names the interface; the
		// listener may be bound to the wildcard address on that port.
		if _, port, err := net.SplitHostPort(local); err == nil {
			for _, wild := range []string{"0.0.0.0", "::"} {
				if ext, ok = (*mp)[net.JoinHostPort(wild, port)]; ok {
					break
				}
			}
		}
	}
	if !ok || (ext.Signaling == "" && ext.Media == "") {
		return External{}, false
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ext, true // a name: not a local address
	}
	ip = ip.Unmap()
	if ip.IsLoopback() && len(ext.LocalNets) == 0 {
		return External{}, false
	}
	for _, p := range ext.LocalNets {
		if p.Contains(ip) {
			return External{}, false
		}
	}
	return ext, true
}

// Advertised is the package Advertised with external addresses: a peer
// outside the listener's local networks gets the external signalling
// address (and its port, or the listener's).
func (s *Server) Advertised(local, remote string) (string, int) {
	host, port := s.routes.advertised(local, remote)
	ext, ok := s.externalFor(local, remote)
	if !ok || ext.Signaling == "" {
		return host, port
	}
	eh, ep, err := net.SplitHostPort(ext.Signaling)
	if err != nil {
		return ext.Signaling, port
	}
	if n, err := strconv.Atoi(ep); err == nil && n > 0 {
		port = n
	}
	return eh, port
}

// LocalAdvertised is the package Advertised, with the wildcard case
// cached: the address of this host itself, without external addresses.
func (s *Server) LocalAdvertised(local, remote string) (string, int) {
	return s.routes.advertised(local, remote)
}

// MediaAddress is the address to write in SDP for a peer at remote reached
// through the listener local, when an external media address applies.
func (s *Server) MediaAddress(local, remote string) (netip.Addr, bool) {
	ext, ok := s.externalFor(local, remote)
	if !ok {
		return netip.Addr{}, false
	}
	m := ext.Media
	if m == "" {
		m = ext.Signaling
	}
	if h, _, err := net.SplitHostPort(m); err == nil {
		m = h
	}
	a, err := netip.ParseAddr(m)
	if err != nil {
		ips, lerr := net.LookupIP(m)
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, false
		}
		a, _ = netip.AddrFromSlice(ips[0])
	}
	return a.Unmap(), true
}
