package rtp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
)

// ErrNoPorts is returned when every port pair of the range is taken.
var ErrNoPorts = errors.New("rtp: no free port in range")

// Allocator hands out RTP/RTCP port pairs from [Start, End] (rtp.conf
// rtpstart/rtpend). It walks the range round-robin so a port just released
// is not reused at once (late packets of the old call would land in the new).
type Allocator struct {
	start, end int
	next       atomic.Uint32
}

// NewAllocator makes an allocator for ports start..end (inclusive). Odd
// bounds are rounded inwards, as RTP takes the even port.
func NewAllocator(start, end int) (*Allocator, error) {
	if start%2 == 1 {
		start++
	}
	if end <= start || start < 1024 || end > 65535 {
		return nil, fmt.Errorf("rtp: bad port range %d-%d", start, end)
	}
	return &Allocator{start: start, end: end}, nil
}

// Range reports the configured bounds.
func (a *Allocator) Range() (int, int) { return a.start, a.end }

// Listen binds an RTP socket on an even port and its RTCP socket on the next
// port, both on ip.
func (a *Allocator) Listen(ip netip.Addr) (*net.UDPConn, *net.UDPConn, error) {
	pairs := (a.end - a.start + 1) / 2
	for try := 0; try < pairs; try++ {
		n := int(a.next.Add(1)-1) % pairs
		port := a.start + 2*n
		rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			continue
		}
		rtcpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			rtpConn.Close()
			continue
		}
		return rtpConn, rtcpConn, nil
	}
	return nil, nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, ip)
}
