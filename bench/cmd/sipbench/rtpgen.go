package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The RTP generator plays both ends of every call: the caller side sends
// to gopbx's caller-facing port of each call and the callee side to its
// callee-facing port, 160-byte G.711 frames every 20 ms per call and
// direction, and both sides count what comes back.
//
// Each side is one address shared by all calls (gopbx latches each leg on
// that address), served by a few SO_REUSEPORT sockets: the generator needs
// no port per call, so its own socket count and CPU do not grow with N as
// gopbx's do, and the kernel spreads what gopbx sends among the sockets.
//
// At a few thousand calls the generator, not gopbx, is what fills the
// machine (with in-kernel forwarding gopbx's forwarding runs in the
// generator's system calls), so its cost per packet counts: see mmsg.go for
// the sockets and the sending, read for the receiving.

const (
	rtpPeriod  = 20 * time.Millisecond
	rtpPayload = 160
	rtpSlots   = 20 // a period is split into 1 ms slots to spread the sends
)

// rtpSide is the caller or the callee end of every call.
type rtpSide struct {
	addr  netip.AddrPort
	pt    uint8
	epoch time.Time       // shared by both sides: the clock of the send stamps
	fds   []int           // UDP sockets, see mmsg.go
	recv  []atomic.Uint64 // per socket
	lat   []*latHist      // per socket
	sent  []atomic.Uint64 // per sender
	late  []atomic.Uint64 // slots a sender started more than a period late
	done  atomic.Bool     // close was called
	wg    sync.WaitGroup

	mu      sync.Mutex
	senders []int // the senders' packet sockets, see mmsg.go
	lo      bool  // acquireLoopback was called: release on close
	loIndex int   // what it returned
}

// rtpRecvSize is how much of a received datagram is read: the RTP header
// and the send stamp are all the generator looks at.
const rtpRecvSize = 64

// recvPause: see read.
const recvPause = 200 * time.Microsecond

// Each packet carries its send time (nanoseconds since the epoch) and a
// magic in the first 12 payload bytes, so the receiving side can tell how
// long it took through gopbx. A transcoded packet has a new payload and no
// magic: it is counted, not timed.
const stampMagic = 0x67706278 // "gpbx"

// latHist counts one-way latencies in 1 ms buckets up to latBuckets ms.
const latBuckets = 5000

type latHist [latBuckets + 1]atomic.Uint64

func (h *latHist) snapshot() []uint64 {
	out := make([]uint64, len(h))
	for i := range h {
		out[i] = h[i].Load()
	}
	return out
}

// latStats is latency percentiles over a histogram difference, in ms.
type latStats struct {
	N             uint64  `json:"n"`
	P50, P99, Max float64 `json:"-"`
}

func latencyOf(before, after [][]uint64) latStats {
	var d [latBuckets + 1]uint64
	var st latStats
	for k := range after {
		for i := range d {
			d[i] += after[k][i] - before[k][i]
		}
	}
	for _, c := range d {
		st.N += c
	}
	if st.N == 0 {
		return st
	}
	var acc uint64
	p50, p99 := (st.N+1)/2, (st.N*99+99)/100
	for i, c := range d {
		if c == 0 {
			continue
		}
		if acc < p50 && acc+c >= p50 {
			st.P50 = float64(i) + 1
		}
		if acc < p99 && acc+c >= p99 {
			st.P99 = float64(i) + 1
		}
		acc += c
		st.Max = float64(i) + 1
	}
	return st
}

// listenRTPSide binds n SO_REUSEPORT sockets on addr and starts a reader
// on each.
func listenRTPSide(addr netip.AddrPort, n int, pt uint8, epoch time.Time) (*rtpSide, error) {
	s := &rtpSide{addr: addr, pt: pt, epoch: epoch, recv: make([]atomic.Uint64, n)}
	for range n {
		fd, err := listenUDP(addr)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("rtp generator: %w", err)
		}
		s.fds = append(s.fds, fd)
	}
	for i, fd := range s.fds {
		s.lat = append(s.lat, new(latHist))
		s.wg.Add(1)
		go s.read(fd, &s.recv[i], s.lat[i])
	}
	return s, nil
}

// read counts and times what arrives on one socket. A reader that slept
// in recvmmsg whenever its socket was empty would be woken for nearly every
// datagram under load, as it drains faster than datagrams arrive, and the
// wake-ups (the scheduler, and the sender preempted by the reader it woke)
// cost more than the reading. So after a batch that emptied the socket it
// sleeps recvPause and then reads whatever queued meanwhile (tens of
// datagrams a wake-up at 100,000 packets/s a socket), and only sleeps in
// recvmmsg when that found nothing. The pause is the kernel's (nanosleep),
// not a Go timer's: with Go's timers the senders' slots ran late. A packet
// is timed up to recvPause late, well inside the 1 ms buckets.
func (s *rtpSide) read(fd int, n *atomic.Uint64, lat *latHist) {
	defer s.wg.Done()
	m := newMmsgConn(fd, rtpRecvSize)
	pause := unix.NsecToTimespec(recvPause.Nanoseconds())
	var pkts [][]byte
	wait := true
	for !s.done.Load() {
		var k int
		var err error
		pkts, k, err = m.recv(pkts, wait)
		if err != nil {
			return
		}
		if len(pkts) > 0 {
			now := time.Since(s.epoch)
			for _, p := range pkts {
				if len(p) >= 24 && binary.BigEndian.Uint32(p[20:]) == stampMagic {
					d := now - time.Duration(binary.BigEndian.Uint64(p[12:]))
					lat[min(max(int(d/time.Millisecond), 0), latBuckets)].Add(1)
				}
			}
			n.Add(uint64(len(pkts)))
		}
		switch {
		case k == 0:
			wait = true
		case k < mmsgBatch:
			wait = false
			_ = unix.Nanosleep(&pause, nil)
		default:
			wait = false // more may be queued
		}
	}
}

// latency returns a snapshot of the side's latency histograms.
func (s *rtpSide) latency() [][]uint64 {
	var out [][]uint64
	for _, h := range s.lat {
		out = append(out, h.snapshot())
	}
	return out
}

// close stops the side's readers and senders and closes its sockets. The
// shutdown wakes a reader blocked in recvmmsg; sockTimeout bounds the wait
// otherwise.
func (s *rtpSide) close() {
	if s.done.Swap(true) {
		return
	}
	for _, fd := range s.fds {
		_ = unix.Shutdown(fd, unix.SHUT_RDWR)
	}
	s.wg.Wait()
	for _, fd := range s.fds {
		unix.Close(fd)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fd := range s.senders {
		unix.Close(fd)
	}
	if s.lo {
		releaseLoopback()
	}
}

func (s *rtpSide) received() uint64 {
	var t uint64
	for i := range s.recv {
		t += s.recv[i].Load()
	}
	return t
}

func (s *rtpSide) sentTotal() uint64 {
	var t uint64
	for i := range s.sent {
		t += s.sent[i].Load()
	}
	return t
}

// stream sends to every destination once per period until ctx ends, from
// as many goroutines as the side has sockets. Destination i is sent in slot
// i%rtpSlots of the period so that the load is spread over the 20 ms.
func (s *rtpSide) stream(ctx context.Context, dsts []netip.AddrPort) {
	w := len(s.fds)
	s.sent = make([]atomic.Uint64, w)
	s.late = make([]atomic.Uint64, w)
	// The senders write to the loopback device if they can, else on the
	// UDP sockets (see mmsg.go).
	lo := os.Getenv("SIPBENCH_RTP_UDP") == ""
	for _, d := range dsts {
		lo = lo && d.Addr().Is4() && d.Addr().IsLoopback()
	}
	ifindex := 0
	if lo {
		s.mu.Lock()
		if !s.lo {
			s.lo, s.loIndex = true, acquireLoopback()
		}
		ifindex = s.loIndex
		s.mu.Unlock()
	}
	start := time.Now()
	for k := range w {
		var mine []netip.AddrPort
		for i := k; i < len(dsts); i += w {
			mine = append(mine, dsts[i])
		}
		var m *mmsgConn
		if ifindex != 0 {
			if fd, err := openLoopback(ifindex); err == nil {
				s.mu.Lock()
				s.senders = append(s.senders, fd)
				s.mu.Unlock()
				m = newFrameConn(fd, s.addr, 12+rtpPayload)
			}
		}
		if m == nil {
			m = newMmsgConn(s.fds[k], 12+rtpPayload)
		}
		s.wg.Add(1)
		go s.send(ctx, m, mine, uint32(k), start, &s.sent[k], &s.late[k])
	}
}

func (s *rtpSide) send(ctx context.Context, m *mmsgConn, dsts []netip.AddrPort, first uint32, start time.Time, sent, late *atomic.Uint64) {
	defer s.wg.Done()
	// Slot j of each period sends dsts[j], dsts[j+rtpSlots], ...
	for _, pkt := range m.payloads() {
		pkt[0] = 0x80
		pkt[1] = s.pt
		for i := 12; i < len(pkt); i++ {
			pkt[i] = 0xd5 // a quiet G.711 value, not all-zero
		}
	}
	slot := rtpPeriod / rtpSlots
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for n := 0; ; n++ {
		at := start.Add(time.Duration(n) * slot)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		} else if -d > rtpPeriod {
			late.Add(1)
		}
		if s.done.Load() {
			return
		}
		frame := uint32(n / rtpSlots)
		ok := 0
		// One stamp a batch: the packets of a batch leave together, in the
		// one sendmmsg that follows.
		stamp := uint64(time.Since(s.epoch))
		for i := n % rtpSlots; i < len(dsts); i += rtpSlots {
			pkt := m.next()
			binary.BigEndian.PutUint16(pkt[2:], uint16(frame))
			binary.BigEndian.PutUint32(pkt[4:], frame*rtpPayload)
			binary.BigEndian.PutUint32(pkt[8:], first+uint32(i)) // SSRC per call
			binary.BigEndian.PutUint64(pkt[12:], stamp)
			binary.BigEndian.PutUint32(pkt[20:], stampMagic)
			m.queue(dsts[i], 12+rtpPayload)
			if m.full() {
				ok += m.flush()
				stamp = uint64(time.Since(s.epoch))
			}
		}
		ok += m.flush()
		sent.Add(uint64(ok))
	}
}

func (s *rtpSide) lateSlots() uint64 {
	var t uint64
	for i := range s.late {
		t += s.late[i].Load()
	}
	return t
}
