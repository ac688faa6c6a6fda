package rtp

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
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

	// inUse marks the pairs this allocator holds, per local address, so
	// that Open skips them without a socket and a failed bind each: with
	// the range mostly taken (B2BUA bench at 1,500 calls/s) those failed
	// tries were a fifth of gopbx's CPU.
	mu    sync.Mutex
	inUse map[netip.Addr][]bool
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
	return &Allocator{start: start, end: end, polls: ps, inUse: map[netip.Addr][]bool{}}, nil
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
		if !a.reserve(ip, n, pairs) {
			continue
		}
		port := a.start + 2*n
		fd, err := openUDP(netip.AddrPortFrom(ip, uint16(port)), 0)
		if err != nil {
			a.release(ip, n) // taken by another process: tried again next round
			continue
		}
		rfd, err := openUDP(netip.AddrPortFrom(ip, uint16(port+1)), rtcpRcvBuf)
		if err != nil {
			unix.Close(fd)
			a.release(ip, n)
			continue
		}
		s := newSession(fd, rfd, netip.AddrPortFrom(ip, uint16(port)), a.polls.pick())
		s.alloc, s.pair = a, n
		return s, nil
	}
	return nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, ip)
}

// reserve marks pair n of ip taken, unless it is.
func (a *Allocator) reserve(ip netip.Addr, n, pairs int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	used := a.inUse[ip]
	if used == nil {
		used = make([]bool, pairs)
		a.inUse[ip] = used
	}
	if used[n] {
		return false
	}
	used[n] = true
	return true
}

// release frees pair n of ip (Session.Close).
func (a *Allocator) release(ip netip.Addr, n int) {
	a.mu.Lock()
	a.inUse[ip][n] = false
	a.mu.Unlock()
}

// InUse reports how many pairs are held on ip.
func (a *Allocator) InUse(ip netip.Addr) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, u := range a.inUse[ip] {
		if u {
			n++
		}
	}
	return n
}
