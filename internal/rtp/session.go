package rtp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Handler receives each accepted RTP packet on the poller's goroutine. p and raw are only valid during the call (the buffer is
// reused); raw is the packet as received, header included.
type Handler func(p *rtp.Packet, raw []byte)

// DefaultRelatch is how long the latched source must be silent before
// packets from a new source address take over (a phone that moved or whose
// NAT binding changed).
const DefaultRelatch = time.Second

// Session is one leg's RTP endpoint.
type Session struct {
	fd    int // the RTP socket for sends (under mu); -1 once closed
	v6    bool
	local netip.AddrPort
	pair  *portPair  // the sockets, which outlive the session when parked
	alloc *Allocator // parks the pair on Close; nil: Close closes it

	handler atomic.Pointer[Handler]

	// remote is where packets go: the SDP address until the first packet
	// arrives, then the latched source.
	remote   atomic.Pointer[dest]
	latched  atomic.Bool
	lastRecv atomic.Int64 // unix nanoseconds
	relatch  time.Duration
	// slack lengthens the relatch time while the kernel forwards the
	// stream: lastRecv then moves only when the kernel's counters are
	// read, up to a second late, and a stray packet must not find the
	// latched source "silent" just before a reading.
	slack atomic.Int64

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

	closed  atomic.Bool
	started atomic.Bool
}

func newSession(pp *portPair, a *Allocator) *Session {
	s := &Session{fd: pp.fd, local: pp.local, pair: pp, alloc: a, relatch: DefaultRelatch}
	s.v6 = s.local.Addr().Is6() && !s.local.Addr().Is4In6()
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
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if cur := s.remote.Load(); cur != nil && cur.ap == ap {
		return
	}
	s.remote.Store(makeDest(ap, s.v6))
	s.latched.Store(false)
}

// Remote is where packets are sent now.
func (s *Session) Remote() (netip.AddrPort, bool) {
	p := s.remote.Load()
	if p == nil {
		return netip.AddrPort{}, false
	}
	return p.ap, true
}

// Latched is the far end's address once packets from it have been
// accepted.
func (s *Session) Latched() (netip.AddrPort, bool) {
	p := s.remote.Load()
	if p == nil || !s.latched.Load() {
		return netip.AddrPort{}, false
	}
	return p.ap, true
}

// CreditKernel counts packets the kernel forwarded for this session
// (received from its far end, sent to it) and, when some came in, moves
// the last-received time to now: the RTP timeout and relatching go by it.
func (s *Session) CreditKernel(in, out uint64) {
	if in > 0 {
		s.PacketsIn.Add(in)
		s.lastRecv.Store(time.Now().UnixNano())
	}
	s.PacketsOut.Add(out)
}

// SetRelatchSlack adds d to the relatch time (0 restores it).
func (s *Session) SetRelatchSlack(d time.Duration) { s.slack.Store(int64(d)) }

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

// Start registers the session with its poller: packets flow to the
// handler from now on. On a reused pair, packets that came between Open
// and Start were dropped: no SDP had named the port yet, so they were late
// packets of an earlier call.
func (s *Session) Start() {
	if s.closed.Load() || s.started.Swap(true) {
		return
	}
	pp := s.pair
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if s.closed.Load() {
		return // Close is waiting for pp.mu
	}
	if pp.slot == 0 {
		if err := pp.poll.add(pp); err != nil {
			s.started.Store(false)
			return
		}
	}
	pp.owner = s
}

// accept implements latching: the first packet's source becomes the
// destination; another source takes over only after the latched one has
// been silent for the relatch time, so stray or injected packets cannot
// steal the stream.
func (s *Session) accept(from netip.AddrPort, now int64) bool {
	cur := s.remote.Load()
	if !s.latched.Load() || cur == nil {
		s.remote.Store(makeDest(from, s.v6))
		s.latched.Store(true)
		s.lastRecv.Store(now)
		return true
	}
	if cur.ap == from {
		s.lastRecv.Store(now)
		return true
	}
	if now-s.lastRecv.Load() > int64(s.relatch)+s.slack.Load() {
		s.remote.Store(makeDest(from, s.v6))
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
	if s.out == nil {
		s.out = make([]byte, 12, 1500) // on first send: held calls that only listen never pay for it
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
	return s.transmitLocked(b, dst)
}

// transmitLocked encrypts (SRTP) and sends a packet; s.mu is held.
func (s *Session) transmitLocked(pkt []byte, dst *dest) error {
	if s.fd < 0 {
		return nil // closed after WriteRaw's check: the socket may be another call's now
	}
	s.PacketsOut.Add(1)
	if s.srtpOut != nil {
		enc, err := s.srtpOut.EncryptRTP(s.encOut[:0], pkt, nil)
		if err != nil {
			return fmt.Errorf("rtp: srtp: %w", err)
		}
		s.encOut, pkt = enc, enc
	}
	return sendto(s.fd, pkt, dst)
}

// WriteRaw sends a complete RTP packet as is (relay of a packet from the
// other leg when both use the same codec).
func (s *Session) WriteRaw(pkt []byte) error {
	dst := s.remote.Load()
	if dst == nil || s.closed.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transmitLocked(pkt, dst)
}

// Close stops reading and sending and gives the sockets back to the
// allocator, which parks them for reuse (Allocator.Quarantine) or closes
// them. It waits for a read in progress (the poller holds the pair's mu)
// and a send in progress (mu), so neither can run on the sockets once
// they are another session's or their descriptors are closed and reused.
func (s *Session) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	pp := s.pair
	pp.mu.Lock()
	if pp.owner == s {
		pp.owner = nil
	}
	pp.mu.Unlock()
	s.mu.Lock()
	s.fd = -1
	s.mu.Unlock()
	if s.alloc == nil {
		return pp.close()
	}
	return s.alloc.park(pp)
}
