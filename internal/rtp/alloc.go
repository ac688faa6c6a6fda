package rtp

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrNoPorts is returned when every port pair of the range is taken.
var ErrNoPorts = errors.New("rtp: no free port in range")

// rtcpRcvBuf bounds the unread RTCP socket's queue: the kernel would
// otherwise let ~200 KB of reports pile up on a long call.
const rtcpRcvBuf = 4096

// Allocator hands out RTP/RTCP port pairs from [Start, End] (rtp.conf
// rtpstart/rtpend) and owns the pollers that read them. It walks the range
// round-robin so a port just released is not reused at once (late packets
// of the old call would land in the new).
type Allocator struct {
	start, end int
	next       atomic.Uint32
	polls      *pollers
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
	ps, err := newPollers(max(1, min(runtime.GOMAXPROCS(0), 4)))
	if err != nil {
		return nil, err
	}
	return &Allocator{start: start, end: end, polls: ps}, nil
}

// Range reports the configured bounds.
func (a *Allocator) Range() (int, int) { return a.start, a.end }

// Close stops the pollers; sessions must be closed first.
func (a *Allocator) Close() { a.polls.close() }

// Open binds an RTP socket on an even port of ip and its RTCP socket on
// the next port, and returns the session (not yet reading: Start).
func (a *Allocator) Open(ip netip.Addr) (*Session, error) {
	pairs := (a.end - a.start + 1) / 2
	for try := 0; try < pairs; try++ {
		n := int(a.next.Add(1)-1) % pairs
		port := a.start + 2*n
		fd, err := openUDP(netip.AddrPortFrom(ip, uint16(port)), 0)
		if err != nil {
			continue
		}
		rfd, err := openUDP(netip.AddrPortFrom(ip, uint16(port+1)), rtcpRcvBuf)
		if err != nil {
			unix.Close(fd)
			continue
		}
		return newSession(fd, rfd, netip.AddrPortFrom(ip, uint16(port)), a.polls.pick()), nil
	}
	return nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, ip)
}
