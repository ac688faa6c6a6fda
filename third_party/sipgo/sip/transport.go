package sip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
)

var (

	// TransportIdleConnection will keep connections idle even after transaction terminate
	// -1 	- single response or request will close
	// 0 	- close connection immediatelly after transaction terminate
	// 1 	- keep connection idle after transaction termination
	TransportIdleConnection int = 1

	// TransportBufferReadSize sets this buffer size to use on reading SIP messages.
	TransportBufferReadSize uint16 = 32768
)

const (
	DefaultProtocol = "UDP"

	DefaultUdpPort int = 5060
	DefaultTcpPort int = 5060
	DefaultTlsPort int = 5061
	DefaultWsPort  int = 80
	DefaultWssPort int = 443
)

// Protocol implements network specific features.
type transport interface {
	// GetConnection returns connection from transport
	// addr must be resolved to IP:port
	GetConnection(addr string) Connection
	CreateConnection(ctx context.Context, laddr Addr, raddr Addr, handler MessageHandler) (Connection, error)
	Close() error
}

// TransportReadProps describes the transport read connection properties
type TransportReadProps struct {
	Transport  string
	LocalAddr  net.Addr
	RemoteAddr net.Addr
	// ReadAt is when the kernel received the datagram (unix ns), from
	// SO_TIMESTAMPNS when the socket has it on; 0 otherwise. gopbx patch.
	ReadAt int64
	// Source and Local are RemoteAddr's and LocalAddr's strings (UDP
	// only), formatted once per peer instead of once per datagram and
	// reader. gopbx patch.
	Source, Local string
}

// TransportReadFilter can inspect or replace raw bytes before SIP parsing.
type TransportReadFilter func(info TransportReadProps, data []byte) ([]byte, error)

// DefaultPort returns transport default port by network.
func DefaultPort(transport string) int {
	switch ASCIIToLower(transport) {
	case "tls":
		return DefaultTlsPort
	case "tcp":
		return DefaultTcpPort
	case "udp":
		return DefaultUdpPort
	case "ws":
		return DefaultWsPort
	case "wss":
		return DefaultWssPort
	default:
		return DefaultTcpPort
	}
}

type Addr struct {
	IP       net.IP // Must be in IP format
	Port     int
	Hostname string // Original hostname before resolved to IP
	Zone     string
}

func (a *Addr) String() string {
	if a.IP == nil {
		return net.JoinHostPort(a.Hostname, strconv.Itoa(a.Port))
	}
	// gopbx patch: one allocation, where IP.String, Itoa and JoinHostPort
	// took three; the client side formats its local address per request
	// (ClientRequestConnection). Same text: net.IP prints a v4-mapped
	// address dotted, and JoinHostPort brackets an IPv6 one.
	if ip, ok := netip.AddrFromSlice(a.IP); ok {
		ip = ip.Unmap()
		var buf [64]byte
		b := buf[:0]
		if ip.Is6() {
			b = append(b, '[')
			b = ip.AppendTo(b)
			b = append(b, ']')
		} else {
			b = ip.AppendTo(b)
		}
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(a.Port), 10)
		return string(b)
	}
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

func (a *Addr) Copy(d *Addr) {
	d.Hostname = a.Hostname
	d.Port = a.Port
	if a.IP != nil {
		d.IP = make(net.IP, len(a.IP))
		copy(d.IP, a.IP)
	}
}

func (a *Addr) parseAddr(addr string) error {
	host, port, err := ParseAddr(addr)
	a.IP = net.ParseIP(host)
	a.Port = port
	a.Hostname = host
	return err
}

func ParseAddr(addr string) (host string, port int, err error) {
	host, pstr, err := net.SplitHostPort(addr)
	if err != nil {
		return host, port, err
	}

	// In case we are dealing with some named ports this should be called
	// net.LookupPort(network)

	port, err = strconv.Atoi(pstr)
	return host, port, err
}
