package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
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

const (
	rtpPeriod  = 20 * time.Millisecond
	rtpPayload = 160
	rtpSlots   = 20 // a period is split into 1 ms slots to spread the sends
)

// rtpSide is the caller or the callee end of every call.
type rtpSide struct {
	addr  netip.AddrPort
	pt    uint8
	epoch time.Time // shared by both sides: the clock of the send stamps
	conns []*net.UDPConn
	recv  []atomic.Uint64 // per socket
	lat   []*latHist      // per socket
	sent  []atomic.Uint64 // per sender
	late  []atomic.Uint64 // slots a sender started more than a period late
	wg    sync.WaitGroup
}

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

// listenReusePort binds n sockets on addr with SO_REUSEPORT and large
// buffers (SO_RCVBUFFORCE when root; otherwise up to net.core.rmem_max).
func listenRTPSide(addr netip.AddrPort, n int, pt uint8, epoch time.Time) (*rtpSide, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
				if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], 8<<20) != nil {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], 8<<20)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	s := &rtpSide{addr: addr, pt: pt, epoch: epoch, recv: make([]atomic.Uint64, n)}
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp4", addr.String())
		if err != nil {
			s.close()
			return nil, fmt.Errorf("rtp generator: %w", err)
		}
		s.conns = append(s.conns, pc.(*net.UDPConn))
	}
	for i, c := range s.conns {
		s.lat = append(s.lat, new(latHist))
		s.wg.Add(1)
		go s.read(c, &s.recv[i], s.lat[i])
	}
	return s, nil
}

func (s *rtpSide) read(c *net.UDPConn, n *atomic.Uint64, lat *latHist) {
	defer s.wg.Done()
	m, err := newMmsgConn(c, 2048)
	if err != nil {
		return
	}
	var pkts [][]byte
	for {
		pkts, err = m.recv(pkts)
		if err != nil {
			return // closed
		}
		now := time.Since(s.epoch)
		for _, p := range pkts {
			if len(p) >= 24 && binary.BigEndian.Uint32(p[20:]) == stampMagic {
				d := now - time.Duration(binary.BigEndian.Uint64(p[12:]))
				lat[min(max(int(d/time.Millisecond), 0), latBuckets)].Add(1)
			}
		}
		n.Add(uint64(len(pkts)))
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

func (s *rtpSide) close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
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
	w := len(s.conns)
	s.sent = make([]atomic.Uint64, w)
	s.late = make([]atomic.Uint64, w)
	start := time.Now()
	for k := range w {
		var mine []netip.AddrPort
		for i := k; i < len(dsts); i += w {
			mine = append(mine, dsts[i])
		}
		s.wg.Add(1)
		go s.send(ctx, s.conns[k], mine, uint32(k), start, &s.sent[k], &s.late[k])
	}
}

func (s *rtpSide) send(ctx context.Context, c *net.UDPConn, dsts []netip.AddrPort, first uint32, start time.Time, sent, late *atomic.Uint64) {
	defer s.wg.Done()
	// Slot j of each period sends dsts[j], dsts[j+rtpSlots], ...
	m, err := newMmsgConn(c, 12+rtpPayload)
	if err != nil {
		return
	}
	for _, pkt := range m.bufs {
		pkt[0] = 0x80
		pkt[1] = s.pt
		for i := 12; i < len(pkt); i++ {
			pkt[i] = 0xd5 // a quiet G.711 value, not all-zero
		}
	}
	slot := rtpPeriod / rtpSlots
	for n := 0; ; n++ {
		at := start.Add(time.Duration(n) * slot)
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		} else if -d > rtpPeriod {
			late.Add(1)
		}
		frame := uint32(n / rtpSlots)
		ok := 0
		for i := n % rtpSlots; i < len(dsts); i += rtpSlots {
			pkt := m.next()
			binary.BigEndian.PutUint16(pkt[2:], uint16(frame))
			binary.BigEndian.PutUint32(pkt[4:], frame*rtpPayload)
			binary.BigEndian.PutUint32(pkt[8:], first+uint32(i)) // SSRC per call
			binary.BigEndian.PutUint64(pkt[12:], uint64(time.Since(s.epoch)))
			binary.BigEndian.PutUint32(pkt[20:], stampMagic)
			m.queue(dsts[i], 12+rtpPayload)
			if m.full() {
				ok += m.flush()
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
