package rtp

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Handler receives each accepted RTP packet on the session's reader
// goroutine. p and raw are only valid during the call (the buffer is
// reused); raw is the packet as received, header included.
type Handler func(p *rtp.Packet, raw []byte)

// DefaultRelatch is how long the latched source must be silent before
// packets from a new source address take over (a phone that moved or whose
// NAT binding changed).
const DefaultRelatch = time.Second

// Session is one leg's RTP endpoint.
type Session struct {
	conn, rtcp *net.UDPConn
	local      netip.AddrPort

	handler atomic.Pointer[Handler]

	// remote is where packets go: the SDP address until the first packet
	// arrives, then the latched source.
	remote   atomic.Pointer[netip.AddrPort]
	latched  atomic.Bool
	lastRecv atomic.Int64 // unix nanoseconds
	relatch  time.Duration

	mu   sync.Mutex // sender state
	ssrc uint32
	seq  uint16
	ts   uint32
	out  []byte

	// SRTP (RFC 3711): srtpIn decrypts on the reader goroutine only;
	// srtpOut encrypts under mu.
	srtpIn  atomic.Pointer[srtp.Context]
	srtpOut *srtp.Context
	encOut  []byte

	PacketsIn, PacketsOut, Dropped atomic.Uint64

	closed atomic.Bool
	done   chan struct{}
}

// NewSession wraps two bound sockets (see Allocator.Listen).
func NewSession(conn, rtcp *net.UDPConn) *Session {
	s := &Session{conn: conn, rtcp: rtcp, relatch: DefaultRelatch, done: make(chan struct{}), out: make([]byte, 0, 1500)}
	s.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	var b [10]byte
	_, _ = rand.Read(b[:])
	s.ssrc = binary.BigEndian.Uint32(b[0:4])
	s.seq = binary.BigEndian.Uint16(b[4:6])
	s.ts = binary.BigEndian.Uint32(b[6:10])
	return s
}

// Local is the RTP socket's address (what goes into our SDP, unless an
// external media address replaces the host).
func (s *Session) Local() netip.AddrPort { return s.local }

// SSRC is our sending SSRC.
func (s *Session) SSRC() uint32 { return s.ssrc }

// SetRemote sets the address from the peer's SDP. It does not undo a latch
// unless the peer moved (a re-INVITE with a new address): then we wait for
// packets from it again.
func (s *Session) SetRemote(ap netip.AddrPort) {
	if cur := s.remote.Load(); cur != nil && *cur == ap {
		return
	}
	s.remote.Store(&ap)
	s.latched.Store(false)
}

// Remote is where packets are sent now.
func (s *Session) Remote() (netip.AddrPort, bool) {
	p := s.remote.Load()
	if p == nil {
		return netip.AddrPort{}, false
	}
	return *p, true
}

// LastReceived is when the last packet was accepted (zero: never).
func (s *Session) LastReceived() time.Time {
	n := s.lastRecv.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// SetHandler replaces the packet consumer; nil drops packets.
func (s *Session) SetHandler(h Handler) {
	if h == nil {
		s.handler.Store(nil)
		return
	}
	s.handler.Store(&h)
}

// SetSRTP turns on SRTP: in decrypts what the far end sends (its key),
// out encrypts what we send (our key). nil, nil turns it off.
func (s *Session) SetSRTP(in, out *srtp.Context) {
	s.srtpIn.Store(in)
	s.mu.Lock()
	s.srtpOut = out
	s.mu.Unlock()
}

// Start runs the reader goroutine until Close.
func (s *Session) Start() { go s.read() }

func (s *Session) read() {
	defer close(s.done)
	buf := make([]byte, 1500)
	var dec []byte
	var p rtp.Packet
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 12 || buf[0]>>6 != 2 {
			s.Dropped.Add(1)
			continue // not RTP (STUN, garbage)
		}
		pkt := buf[:n]
		if in := s.srtpIn.Load(); in != nil {
			// Authenticate before latching, so forged packets cannot
			// steal the stream.
			plain, err := in.DecryptRTP(dec[:0], pkt, nil)
			if err != nil {
				s.Dropped.Add(1)
				continue
			}
			pkt = plain
		}
		if !s.accept(from) {
			s.Dropped.Add(1)
			continue
		}
		if err := p.Unmarshal(pkt); err != nil {
			s.Dropped.Add(1)
			continue
		}
		s.PacketsIn.Add(1)
		if h := s.handler.Load(); h != nil {
			(*h)(&p, pkt)
		}
	}
}

// accept implements latching: the first packet's source becomes the
// destination; another source takes over only after the latched one has
// been silent for the relatch time, so stray or injected packets cannot
// steal the stream.
func (s *Session) accept(from netip.AddrPort) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	now := time.Now().UnixNano()
	cur := s.remote.Load()
	if !s.latched.Load() || cur == nil {
		s.remote.Store(&from)
		s.latched.Store(true)
		s.lastRecv.Store(now)
		return true
	}
	if *cur == from {
		s.lastRecv.Store(now)
		return true
	}
	if now-s.lastRecv.Load() > int64(s.relatch) {
		s.remote.Store(&from)
		s.lastRecv.Store(now)
		return true
	}
	return false
}

// Send sends payload with our SSRC and the current timestamp, then moves
// the timestamp on by advance (samples at the RTP clock rate).
func (s *Session) Send(pt uint8, marker bool, payload []byte, advance uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.sendLocked(pt, marker, payload, s.ts)
	s.ts += advance
	return err
}

// SendAt sends with an explicit timestamp (DTMF events keep the start
// timestamp for all their packets).
func (s *Session) SendAt(pt uint8, marker bool, payload []byte, ts uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked(pt, marker, payload, ts)
}

// Clock returns the timestamp the next Send uses.
func (s *Session) Clock() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ts
}

// Advance moves the timestamp on without sending (time covered by an
// event or by silence that was not sent).
func (s *Session) Advance(n uint32) {
	s.mu.Lock()
	s.ts += n
	s.mu.Unlock()
}

func (s *Session) sendLocked(pt uint8, marker bool, payload []byte, ts uint32) error {
	dst := s.remote.Load()
	if dst == nil || s.closed.Load() {
		return nil
	}
	b := s.out[:12]
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], s.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	b = append(b, payload...)
	s.out = b[:0]
	s.seq++
	s.PacketsOut.Add(1)
	if s.srtpOut != nil {
		enc, err := s.srtpOut.EncryptRTP(s.encOut[:0], b, nil)
		if err != nil {
			return fmt.Errorf("rtp: srtp: %w", err)
		}
		s.encOut, b = enc, enc
	}
	_, err := s.conn.WriteToUDPAddrPort(b, *dst)
	return err
}

// WriteRaw sends a complete RTP packet as is (relay of a packet from the
// other leg when both use the same codec).
func (s *Session) WriteRaw(pkt []byte) error {
	dst := s.remote.Load()
	if dst == nil || s.closed.Load() {
		return nil
	}
	s.PacketsOut.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srtpOut != nil {
		enc, err := s.srtpOut.EncryptRTP(s.encOut[:0], pkt, nil)
		if err != nil {
			return fmt.Errorf("rtp: srtp: %w", err)
		}
		s.encOut, pkt = enc, enc
	}
	_, err := s.conn.WriteToUDPAddrPort(pkt, *dst)
	return err
}

// Close releases both sockets and waits for the reader to stop.
func (s *Session) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.conn.Close()
	if s.rtcp != nil {
		s.rtcp.Close()
	}
	select {
	case <-s.done:
	case <-time.After(time.Second):
	}
	return err
}
