package rtp

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"sync"

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
	polls      *pollers

	// Per local address, a bitmap of the pairs this allocator holds, so
	// that Open skips them without a socket and a failed bind each (with
	// the range mostly taken, B2BUA bench at 1,500 calls/s, those failed
	// tries were a fifth of gopbx's CPU), and finds the next free pair in
	// one pass under one lock (a lock per pair tried was a fifth again when
	// an overloaded run had nearly filled the range).
	mu    sync.Mutex
	next  int // the round-robin position
	inUse map[netip.Addr]*pairSet
}

// pairSet is a bitmap of held pairs.
type pairSet struct {
	words []uint64
	held  int
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
	return &Allocator{start: start, end: end, polls: ps, inUse: map[netip.Addr]*pairSet{}}, nil
}

// Range reports the configured bounds.
func (a *Allocator) Range() (int, int) { return a.start, a.end }

// Close stops the pollers; sessions must be closed first.
func (a *Allocator) Close() { a.polls.close() }

func (a *Allocator) pairs() int { return (a.end - a.start + 1) / 2 }

// Open binds an RTP socket on an even port of ip and its RTCP socket on
// the next port, and returns the session (not yet reading: Start).
func (a *Allocator) Open(ip netip.Addr) (*Session, error) {
	for try := 0; try < a.pairs(); try++ {
		n, ok := a.reserve(ip)
		if !ok {
			break
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

// reserve takes the first free pair of ip at or after the round-robin
// position (wrapping) and moves the position past it.
func (a *Allocator) reserve(ip netip.Addr) (int, bool) {
	pairs := a.pairs()
	a.mu.Lock()
	defer a.mu.Unlock()
	set := a.inUse[ip]
	if set == nil {
		set = &pairSet{words: make([]uint64, (pairs+63)/64)}
		a.inUse[ip] = set
	}
	if set.held >= pairs {
		return 0, false
	}
	n, ok := set.firstFree(a.next%pairs, pairs)
	if !ok {
		return 0, false
	}
	set.words[n/64] |= 1 << (n % 64)
	set.held++
	a.next = n + 1
	return n, true
}

// firstFree finds the first free pair at or after from, wrapping at pairs.
func (p *pairSet) firstFree(from, pairs int) (int, bool) {
	if n, ok := p.scan(from, pairs); ok {
		return n, true
	}
	return p.scan(0, from)
}

// scan finds the first clear bit in [lo, hi).
func (p *pairSet) scan(lo, hi int) (int, bool) {
	for w := lo / 64; w*64 < hi; w++ {
		free := ^p.words[w]
		if w == lo/64 {
			free &^= 1<<(lo%64) - 1
		}
		if free == 0 {
			continue
		}
		if n := w*64 + bits.TrailingZeros64(free); n < hi {
			return n, true
		}
		return 0, false
	}
	return 0, false
}

// release frees pair n of ip (Session.Close).
func (a *Allocator) release(ip netip.Addr, n int) {
	a.mu.Lock()
	set := a.inUse[ip]
	if set.words[n/64]&(1<<(n%64)) != 0 {
		set.words[n/64] &^= 1 << (n % 64)
		set.held--
	}
	a.mu.Unlock()
}

// InUse reports how many pairs are held on ip.
func (a *Allocator) InUse(ip netip.Addr) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if set := a.inUse[ip]; set != nil {
		return set.held
	}
	return 0
}
