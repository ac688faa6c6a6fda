package rtp

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoPorts is returned when every port pair of the range is taken.
var ErrNoPorts = errors.New("rtp: no free port in range")

// rtcpRcvBuf bounds the unread RTCP socket's queue: the kernel would
// otherwise let ~200 KB of reports pile up on a long call.
const rtcpRcvBuf = 4096

// DefaultQuarantine is how long a closed session's port pair stays parked
// before Open hands it out again: late packets of the old call have
// stopped by then, and those that still come are drained at reuse.
const DefaultQuarantine = time.Second

// maxParkedDefault caps the default Allocator.MaxParked: with the default
// quarantine, 4,096 parked pairs serve 4,096 reuses a second, 2,048 calls/s
// anchoring both legs (the B2BUA benchmark runs 1,500).
const maxParkedDefault = 4096

// Allocator hands out RTP/RTCP port pairs from [Start, End] (rtp.conf
// rtpstart/rtpend) and owns the pollers that read them. It walks the range
// round-robin so a port just released is not reused at once (late packets
// of the old call would land in the new).
//
// A closed session's sockets are not closed but parked, still bound and
// registered with their poller, and Open hands out the oldest parked pair
// of its address once it has been parked for Quarantine. Opening and
// closing the four sockets of a call (socket, setsockopt, bind, epoll_ctl
// add and del, close) was ~6.5% of gopbx's CPU in the B2BUA benchmark at
// 1,500 calls/s; a reused pair costs two recvmmsg that find nothing.
type Allocator struct {
	// Quarantine is how long a pair stays parked before Open reuses it
	// (DefaultQuarantine). It yields only when the address has no free
	// pair left: the oldest parked pair is then better than refusing a
	// call (and no younger than the pair the round-robin walk would have
	// found). Set it before the first Open.
	Quarantine time.Duration
	// MaxParked bounds the parked pairs over all addresses (two
	// descriptors each); a session closed when the bound is reached
	// closes its sockets. The default is 4,096, or less so that parked
	// sockets take at most a quarter of RLIMIT_NOFILE; 0 parks nothing.
	// Out of descriptors, Open closes parked pairs to bind new ones. Set
	// it before the first Open.
	MaxParked int

	start, end int
	polls      *pollers
	drains     sync.Pool // of *drainer

	// Per local address, a bitmap of the pairs this allocator holds, so
	// that Open skips them without a socket and a failed bind each (with
	// the range mostly taken, B2BUA bench at 1,500 calls/s, those failed
	// tries were a fifth of gopbx's CPU), and finds the next free pair in
	// one pass under one lock (a lock per pair tried was a fifth again when
	// an overloaded run had nearly filled the range).
	mu     sync.Mutex
	next   int // the round-robin position
	inUse  map[netip.Addr]*pairSet
	parked int  // parked pairs over all addresses
	closed bool // Close was called: nothing is parked any more
}

// pairSet is a bitmap of held pairs (by live sessions or parked) and the
// parked ones, oldest first.
type pairSet struct {
	words  []uint64
	held   int
	parked fifo
}

// fifo is a ring of parked pairs: a slice queue would allocate on each
// park when pairs are reused as fast as they are parked.
type fifo struct {
	buf     []*portPair
	head, n int
}

func (q *fifo) len() int { return q.n }

// front is the oldest pair; the queue must not be empty.
func (q *fifo) front() *portPair { return q.buf[q.head] }

func (q *fifo) push(pp *portPair) {
	if q.n == len(q.buf) {
		buf := make([]*portPair, max(8, 2*q.n))
		for i := range q.n {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pp
	q.n++
}

func (q *fifo) pop() *portPair {
	pp := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return pp
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
	a := &Allocator{
		Quarantine: DefaultQuarantine,
		MaxParked:  maxParkedDefault,
		start:      start,
		end:        end,
		polls:      ps,
		inUse:      map[netip.Addr]*pairSet{},
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur/8 < uint64(a.MaxParked) {
		a.MaxParked = int(lim.Cur / 8)
	}
	return a, nil
}

// Range reports the configured bounds.
func (a *Allocator) Range() (int, int) { return a.start, a.end }

// Close closes the parked sockets and stops the pollers; sessions must be
// closed first (one closed later closes its sockets).
func (a *Allocator) Close() {
	a.mu.Lock()
	a.closed = true
	var all []*portPair
	for _, set := range a.inUse {
		for set.parked.len() > 0 {
			all = append(all, set.parked.pop())
		}
	}
	a.parked = 0
	a.mu.Unlock()
	for _, pp := range all {
		a.discard(pp)
	}
	a.polls.close()
}

func (a *Allocator) pairs() int { return (a.end - a.start + 1) / 2 }

// Open binds an RTP socket on an even port of ip and its RTCP socket on
// the next port, and returns the session (not yet reading: Start). The
// sockets are a parked pair's when one has served its quarantine.
func (a *Allocator) Open(ip netip.Addr) (*Session, error) {
	for try := 0; try < a.pairs(); try++ {
		pp, n, ok := a.take(ip, time.Now())
		if !ok {
			break
		}
		if pp != nil {
			if !a.drain(pp) {
				a.discard(pp) // still flooded by the old call's peer
				continue
			}
			return newSession(pp, a), nil
		}
		port := a.start + 2*n
		fd, err := openUDP(netip.AddrPortFrom(ip, uint16(port)), 0)
		var rfd int
		if err == nil {
			rfd, err = openUDP(netip.AddrPortFrom(ip, uint16(port+1)), rtcpRcvBuf)
			if err != nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			a.release(ip, n) // taken by another process: tried again next round
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				// Parked sockets must not cost a call its ports.
				if !a.shed() {
					return nil, fmt.Errorf("rtp: open port %d on %s: %w", port, ip, err)
				}
			}
			continue
		}
		pp = &portPair{fd: fd, rtcpFD: rfd, local: netip.AddrPortFrom(ip, uint16(port)), n: n, poll: a.polls.pick()}
		return newSession(pp, a), nil
	}
	return nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, ip)
}

// take picks what Open binds next on ip: the oldest parked pair if it has
// served its quarantine, else a free pair (returned as n with pp nil)
// reserved at or after the round-robin position, else, with the range
// full, the oldest parked pair regardless.
func (a *Allocator) take(ip netip.Addr, now time.Time) (pp *portPair, n int, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	set := a.set(ip)
	if set.parked.len() > 0 && now.Sub(set.parked.front().parkedAt) >= a.Quarantine {
		return a.unparkLocked(set), 0, true
	}
	if n, ok := a.reserveLocked(set); ok {
		return nil, n, true
	}
	if set.parked.len() > 0 {
		return a.unparkLocked(set), 0, true
	}
	return nil, 0, false
}

func (a *Allocator) unparkLocked(set *pairSet) *portPair {
	a.parked--
	return set.parked.pop()
}

func (a *Allocator) set(ip netip.Addr) *pairSet {
	set := a.inUse[ip]
	if set == nil {
		set = &pairSet{words: make([]uint64, (a.pairs()+63)/64)}
		a.inUse[ip] = set
	}
	return set
}

// reserve takes the first free pair of ip at or after the round-robin
// position (wrapping) and moves the position past it.
func (a *Allocator) reserve(ip netip.Addr) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reserveLocked(a.set(ip))
}

func (a *Allocator) reserveLocked(set *pairSet) (int, bool) {
	pairs := a.pairs()
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

// release frees pair n of ip once its sockets are closed.
func (a *Allocator) release(ip netip.Addr, n int) {
	a.mu.Lock()
	set := a.inUse[ip]
	if set.words[n/64]&(1<<(n%64)) != 0 {
		set.words[n/64] &^= 1 << (n % 64)
		set.held--
	}
	a.mu.Unlock()
}

// park keeps a closed session's pair for a later Open, or closes it when
// MaxParked pairs are parked already. The newest pair is the one to go:
// the parked ones are nearer the end of their quarantine, and dropping the
// oldest instead would, with more than MaxParked pairs closed per
// quarantine, drop every pair before it could be reused.
func (a *Allocator) park(pp *portPair) error {
	now := time.Now()
	a.mu.Lock()
	if !a.closed && a.parked < a.MaxParked {
		pp.parkedAt = now
		set := a.set(pp.local.Addr())
		set.parked.push(pp)
		a.parked++
		a.mu.Unlock()
		return nil
	}
	a.mu.Unlock()
	return a.discard(pp)
}

// discard closes a pair's sockets and frees its ports.
func (a *Allocator) discard(pp *portPair) error {
	err := pp.close()
	a.release(pp.local.Addr(), pp.n)
	return err
}

// MaxParkedAge is how long a pair stays parked at most: Expire closes it
// then, so that after a busy hour an idle server does not keep thousands
// of bound sockets (what an administrator sees in ss -ulpn).
const MaxParkedAge = 30 * time.Second

// Expire closes the pairs parked for longer than MaxParkedAge (the media
// manager calls it once a second) and returns how many it closed.
func (a *Allocator) Expire(now time.Time) int {
	var old []*portPair
	a.mu.Lock()
	for _, set := range a.inUse {
		for set.parked.len() > 0 && now.Sub(set.parked.front().parkedAt) > MaxParkedAge {
			old = append(old, a.unparkLocked(set))
		}
	}
	a.mu.Unlock()
	for _, pp := range old {
		a.discard(pp)
	}
	return len(old)
}

// shed closes the oldest parked pair of any address, for descriptors;
// false when none is parked.
func (a *Allocator) shed() bool {
	a.mu.Lock()
	var oldest *pairSet
	for _, set := range a.inUse {
		if set.parked.len() > 0 && (oldest == nil || set.parked.front().parkedAt.Before(oldest.parked.front().parkedAt)) {
			oldest = set
		}
	}
	if oldest == nil {
		a.mu.Unlock()
		return false
	}
	pp := a.unparkLocked(oldest)
	a.mu.Unlock()
	a.discard(pp)
	return true
}

// drain empties a reused pair's receive queues, so that nothing the old
// call's peer sent reaches the new session; false when a socket does not
// run dry (flooded) or fails.
func (a *Allocator) drain(pp *portPair) bool {
	d, _ := a.drains.Get().(*drainer)
	if d == nil {
		d = newDrainer()
	}
	defer a.drains.Put(d)
	pp.mu.Lock() // the poller drops what it reads meanwhile
	defer pp.mu.Unlock()
	return d.drain(pp.fd) && d.drain(pp.rtcpFD)
}

// InUse reports how many pairs live sessions hold on ip (parked pairs,
// though reserved, are not counted).
func (a *Allocator) InUse(ip netip.Addr) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if set := a.inUse[ip]; set != nil {
		return set.held - set.parked.len()
	}
	return 0
}

// Parked reports how many closed sessions' pairs are parked on ip.
func (a *Allocator) Parked(ip netip.Addr) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if set := a.inUse[ip]; set != nil {
		return set.parked.len()
	}
	return 0
}
