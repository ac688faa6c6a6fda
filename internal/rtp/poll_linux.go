package rtp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// poller reads every RTP socket registered with it from one goroutine: a
// level-triggered epoll set, one recvfrom per ready socket, the handler run
// inline. Against a goroutine per socket on Go's netpoller this saves the
// second recvfrom that returns EAGAIN after every packet and the
// park/wake of a goroutine per packet (bench: 3 syscalls per relayed
// packet down to about 2), and a held call keeps no goroutine stacks.
type poller struct {
	batch   time.Duration // see batchWait
	epfd    int
	wake    int // eventfd that ends Wait on close
	mu      sync.Mutex
	slots   map[int32]*portPair
	next    int32
	stopped bool // epfd is closed
	done    chan struct{}
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("rtp: epoll: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("rtp: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("rtp: epoll add: %w", err)
	}
	p := &poller{batch: batchWait, epfd: epfd, wake: wake, slots: map[int32]*portPair{}, done: make(chan struct{})}
	go p.run()
	return p, nil
}

// add registers pp with the set; pp.mu is held. The registration stays
// while pp is parked, so a reused pair costs no epoll_ctl.
func (p *poller) add(pp *portPair) error {
	p.mu.Lock()
	p.next++
	if p.next < 0 {
		p.next = 1
	}
	id := p.next
	p.slots[id] = pp
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: id}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, pp.fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.slots, id)
		p.mu.Unlock()
		return fmt.Errorf("rtp: epoll add: %w", err)
	}
	pp.slot = id
	return nil
}

// remove takes pp out of the set before its sockets close; pp.mu is held,
// so the loop is not reading it.
func (p *poller) remove(pp *portPair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.slots, pp.slot)
	if !p.stopped {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, pp.fd, nil)
	}
}

func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 1500)
	var dec []byte
	var pkt rtp.Packet
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		now := time.Now().UnixNano()
		for i := 0; i < n; i++ {
			id := events[i].Fd
			if id == -1 {
				return // closed
			}
			p.mu.Lock()
			pp := p.slots[id]
			p.mu.Unlock()
			if pp != nil {
				dec = pp.read(buf, dec, &pkt, now)
			}
		}
		if n < len(events)/4 && p.batch > 0 {
			time.Sleep(p.batch)
		}
	}
}

// batchWait is how long a poller lets packets gather after a light round
// of events before it waits again: each epoll_wait then returns many
// sockets instead of one or two (it was 14% of the relay's CPU). The
// price is up to that much latency per packet, well inside what a jitter
// buffer absorbs.
const batchWait = time.Millisecond

func (p *poller) close() {
	var one [8]byte
	one[0] = 1
	_, _ = unix.Write(p.wake, one[:])
	<-p.done
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	unix.Close(p.epfd)
	unix.Close(p.wake)
}

// portPair is a bound RTP/RTCP socket pair. It outlives the sessions that
// use it: Session.Close parks it in the allocator, still registered with
// its poller, for a later Open on its address.
type portPair struct {
	fd, rtcpFD int
	local      netip.AddrPort
	n          int // the pair's index in the allocator's range
	poll       *poller
	slot       int32     // registration with poll; 0 until the first Start
	parkedAt   time.Time // under the allocator's mu

	// mu is held by the poller while it reads fd, and to change owner or
	// close the sockets: a read never runs on a descriptor being closed
	// (whose number could be reused) or handed to another session.
	mu     sync.Mutex
	owner  *Session // gets what is read; nil: parked, or reused and not started
	closed bool
}

// read receives one datagram of pp for the poller. Without an owner the
// datagram is dropped: with level-triggered epoll, leaving it queued would
// wake the loop again at once, and it can only be a late packet of a
// closed call (or, on a reused pair, one sent before our SDP named the
// port: between Open and Start).
func (pp *portPair) read(buf, dec []byte, p *rtp.Packet, now int64) []byte {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	switch {
	case pp.closed:
	case pp.owner == nil:
		recvfrom(pp.fd, buf)
	default:
		dec = pp.owner.readOne(pp.fd, buf, dec, p, now)
	}
	return dec
}

// close removes pp from its poller and closes both sockets.
func (pp *portPair) close() error {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.closed {
		return nil
	}
	pp.closed = true
	if pp.slot != 0 {
		pp.poll.remove(pp)
	}
	err := unix.Close(pp.fd)
	unix.Close(pp.rtcpFD)
	return err
}

// drainBatch is how many datagrams one recvmmsg discards.
const drainBatch = 32

// drainRounds bounds a drain: a socket that still has datagrams after
// drainRounds*drainBatch is being flooded and is not reused.
const drainRounds = 16

// drainer is the recvmmsg vector of a drain: every message is truncated
// into the same byte, as only the dequeuing matters.
type drainer struct {
	msgs [drainBatch]unix.Mmsghdr
	iov  unix.Iovec
	b    [1]byte
}

func newDrainer() *drainer {
	d := &drainer{}
	d.iov.Base = &d.b[0]
	d.iov.SetLen(len(d.b))
	for i := range d.msgs {
		d.msgs[i].Hdr.Iov = &d.iov
		d.msgs[i].Hdr.SetIovlen(1)
	}
	return d
}

// drain discards what is queued on fd; false if it does not run dry.
func (d *drainer) drain(fd int) bool {
	for range drainRounds {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&d.msgs[0])), drainBatch,
			unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == unix.EAGAIN:
			return true
		case errno == unix.EINTR, errno == unix.ECONNREFUSED:
			// A pending ICMP error is reported (and cleared) in place of
			// data: go on.
		case errno != 0:
			return false
		case n < drainBatch:
			// Short read: the queue was empty when it ended. Anything
			// that came since is the new session's.
			return true
		}
	}
	return false
}

// readOne receives one datagram from fd, s's RTP socket, and hands it on;
// buf and dec are the poller's, valid only during the handler. The
// socket's pair is locked.
func (s *Session) readOne(fd int, buf, dec []byte, p *rtp.Packet, now int64) []byte {
	if s.closed.Load() {
		return dec
	}
	n, from, ok := recvfrom(fd, buf)
	if !ok {
		return dec
	}
	if n < 12 || buf[0]>>6 != 2 {
		s.Dropped.Add(1)
		return dec // not RTP (STUN, garbage)
	}
	pkt := buf[:n]
	if in := s.srtpIn.Load(); in != nil {
		// Authenticate before latching, so forged packets cannot steal
		// the stream.
		plain, err := in.DecryptRTP(dec[:0], pkt, nil)
		if err != nil {
			s.Dropped.Add(1)
			return dec
		}
		dec, pkt = plain, plain
	}
	if !s.accept(from, now) {
		s.Dropped.Add(1)
		return dec
	}
	if err := p.Unmarshal(pkt); err != nil {
		s.Dropped.Add(1)
		return dec
	}
	s.PacketsIn.Add(1)
	if h := s.handler.Load(); h != nil {
		(*h)(p, pkt)
	}
	return dec
}

// recvfrom is recvfrom(2) without the allocation of unix.Recvfrom's
// Sockaddr: the source is decoded from the raw address in place.
func recvfrom(fd int, buf []byte) (int, netip.AddrPort, bool) {
	var rsa unix.RawSockaddrAny
	l := uint32(unix.SizeofSockaddrAny)
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	if errno != 0 {
		return 0, netip.AddrPort{}, false
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		port := uint16(sa.Port>>8) | uint16(sa.Port<<8)
		return int(n), netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port), true
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		port := uint16(sa.Port>>8) | uint16(sa.Port<<8)
		return int(n), netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port), true
	}
	return 0, netip.AddrPort{}, false
}

// dest is a send address with its raw sockaddr built once.
type dest struct {
	ap  netip.AddrPort
	raw [unix.SizeofSockaddrInet6]byte
	len uint32
	ok  bool
}

func makeDest(ap netip.AddrPort, v6sock bool) *dest {
	d := &dest{ap: ap}
	port := ap.Port()
	be := uint16(port>>8) | uint16(port<<8)
	if !v6sock {
		if !ap.Addr().Unmap().Is4() {
			return d // an IPv6 peer on an IPv4 socket: unreachable
		}
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&d.raw))
		sa.Family = unix.AF_INET
		sa.Port = be
		sa.Addr = ap.Addr().Unmap().As4()
		d.len, d.ok = unix.SizeofSockaddrInet4, true
		return d
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&d.raw))
	sa.Family = unix.AF_INET6
	sa.Port = be
	sa.Addr = ap.Addr().As16() // IPv4 peers as ::ffff:a.b.c.d
	d.len, d.ok = unix.SizeofSockaddrInet6, true
	return d
}

// sendto is sendto(2) to a prepared address; a full socket buffer drops
// the packet, as the kernel would for UDP anyway.
func sendto(fd int, b []byte, d *dest) error {
	if !d.ok || len(b) == 0 {
		return nil
	}
	_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&d.raw[0])), uintptr(d.len))
	if errno != 0 && errno != unix.EAGAIN {
		return errno
	}
	return nil
}

// openUDP binds a non-blocking UDP socket to ap.
func openUDP(ap netip.AddrPort, rcvbuf int) (int, error) {
	family := unix.AF_INET
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if rcvbuf > 0 {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// pollers spreads sessions over a few pollers, one per CPU.
type pollers struct {
	list []*poller
	next atomic.Uint32
}

func newPollers(n int) (*pollers, error) {
	ps := &pollers{}
	for i := 0; i < n; i++ {
		p, err := newPoller()
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.list = append(ps.list, p)
	}
	return ps, nil
}

func (ps *pollers) pick() *poller {
	return ps.list[int(ps.next.Add(1))%len(ps.list)]
}

func (ps *pollers) close() {
	for _, p := range ps.list {
		p.close()
	}
}
