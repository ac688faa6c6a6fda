package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/codec"
	"github.com/gopbx/gopbx/internal/dtmf"
	"github.com/gopbx/gopbx/internal/rtp"
)

// ErrNoCodec means offer and allow list share no codec (488).
var ErrNoCodec = errors.New("media: no codec in common")

// EventPT is the payload type we offer for telephone-event.
const EventPT = 101

// Options configure a Stream from its endpoint.
type Options struct {
	Allow    []string // endpoint allow= order, Asterisk names
	DTMFMode string   // rfc2833/rfc4733, info, shortinfo, inband, auto
	// SDPAddr is the address written into our SDP (the advertised or
	// external media address); zero means the socket's address.
	SDPAddr netip.Addr
	// SRTP requires SDES-keyed SRTP (media_encryption=sdes): RTP/SAVP
	// offers and answers; plain RTP offers are refused.
	SRTP bool
	// Timeout and HoldTimeout override the manager's RTP timeouts for this
	// endpoint (pjsip rtp_timeout / rtp_timeout_hold, sip.conf peer
	// rtptimeout / rtpholdtimeout); zero keeps the manager's.
	Timeout, HoldTimeout time.Duration
	// SendInfo sends a digit as SIP INFO, for dtmfmode=info.
	SendInfo func(digit byte, d time.Duration)
	Log      *slog.Logger
}

// neg is the negotiated state; replaced whole on each offer/answer so the
// reader goroutine needs no lock.
type neg struct {
	codec   codec.Codec
	pt      uint8
	dtmfPT  int
	dir     string // the far end's direction
	ptime   int
	offered []Format // our last offer, to match an answer against
}

// Stream is one leg's anchored media. It implements channel.Media.
type Stream struct {
	mgr  *Manager
	sess *rtp.Session
	opts Options
	log  *slog.Logger

	neg   atomic.Pointer[neg]
	peer  atomic.Pointer[Stream]
	sdpMu sync.Mutex
	sb    sdpBuilder
	local []byte
	ours  sdes // our SDES key when SRTP

	encMu   sync.Mutex
	enc     codec.Encoder
	encName string
	toWire  codec.Resampler
	encBuf  []byte
	marker  bool

	// Reader-goroutine state.
	dec      codec.Decoder
	decName  string
	fromWire codec.Resampler
	decBuf   []int16
	rx       *dtmf.Receiver
	det      *dtmf.Detector // dtmfmode=inband
	// evPending: an RFC 4733 event is open in rx (checked per packet
	// without calling into the receiver).
	evPending bool

	audio  chan []int16
	digits chan byte
	closed atomic.Bool

	// In-kernel forwarding (kernel.go): the pair when offloaded; kwant
	// while a request is queued.
	koff    atomic.Pointer[kpair]
	kwant   atomic.Bool
	kfailed atomic.Bool // the kernel refused this bridge: no retry per packet
}

func newStream(m *Manager, sess *rtp.Session, o Options) *Stream {
	s := &Stream{mgr: m, sess: sess, opts: o, log: o.Log, audio: make(chan []int16, 8), digits: make(chan byte, 32), marker: true}
	if strings.EqualFold(o.DTMFMode, "inband") {
		s.det = dtmf.NewDetector()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.sb.id = binary.BigEndian.Uint64(b[:]) >> 2
	sess.SetHandler(s.onPacket)
	sess.Start()
	return s
}

// Session is the underlying RTP session (stats, addresses).
func (s *Stream) Session() *rtp.Session { return s.sess }

// Codec is the negotiated codec, or nil before negotiation.
func (s *Stream) Codec() codec.Codec {
	if n := s.neg.Load(); n != nil {
		return n.codec
	}
	return nil
}

// Direction is the far end's last SDP direction (sendonly = we are on hold).
func (s *Stream) Direction() string {
	if n := s.neg.Load(); n != nil {
		return n.dir
	}
	return SendRecv
}

func (s *Stream) sdpAddr() netip.Addr {
	if s.opts.SDPAddr.IsValid() && !s.opts.SDPAddr.IsUnspecified() {
		return s.opts.SDPAddr
	}
	return s.sess.Local().Addr()
}

func (s *Stream) dtmfRFC() bool {
	switch strings.ToLower(s.opts.DTMFMode) {
	case "info", "shortinfo", "inband":
		return false
	}
	return true
}

// AcceptOffer takes the far end's offer (INVITE or re-INVITE) and returns
// our answer: the first offered codec the endpoint allows (the offerer's
// preference, as res_pjsip by default), telephone-event when offered.
func (s *Stream) AcceptOffer(body []byte) ([]byte, error) {
	d, err := ParseSDP(body)
	if err != nil {
		return nil, err
	}
	return s.AcceptOfferDesc(d)
}

// AcceptOfferDesc is AcceptOffer of an offer parsed already (ParseSDP,
// DescOf).
func (s *Stream) AcceptOfferDesc(d *Desc) ([]byte, error) {
	s.takeBack() // the new terms may need the packets (hold, codec, address)
	s.kfailed.Store(false)
	pick, pt := s.pickCodec(d)
	if pick == nil {
		return nil, fmt.Errorf("%w: offered %s, allowed %s", ErrNoCodec, encodings(d.Formats), strings.Join(s.opts.Allow, ","))
	}
	n := &neg{codec: pick, pt: pt, dtmfPT: -1, dir: d.Direction, ptime: d.Ptime}
	formats := []Format{formatOf(pick, pt)}
	if ev := d.Event(); ev >= 0 && s.dtmfRFC() {
		n.dtmfPT = ev
		formats = append(formats, Format{PT: uint8(ev), Encoding: "telephone-event", Clock: 8000, Fmtp: "0-16"})
	}
	proto, crypto := "RTP/AVP", ""
	secure := strings.Contains(d.Proto, "SAVP")
	switch {
	case s.opts.SRTP && !secure:
		return nil, fmt.Errorf("%w: media_encryption=sdes but the offer is %s", ErrSRTP, d.Proto)
	case !s.opts.SRTP && secure:
		return nil, fmt.Errorf("%w: %s offered to an endpoint without media_encryption", ErrSRTP, d.Proto)
	case secure:
		theirs, err := pickCrypto(d.Crypto)
		if err != nil {
			return nil, err
		}
		s.sdpMu.Lock()
		if s.ours.key == nil || s.ours.suite != theirs.suite {
			if s.ours, err = newSDES(theirs.tag, theirs.suite, theirs.profile); err != nil {
				s.sdpMu.Unlock()
				return nil, err
			}
		}
		s.ours.tag = theirs.tag
		ours := s.ours
		s.sdpMu.Unlock()
		if err := s.keySRTP(theirs, ours); err != nil {
			return nil, err
		}
		proto, crypto = d.Proto, ours.line()
	}
	s.neg.Store(n)
	s.setRemote(d)
	s.takeBack() // again: an offload decided on the old terms may have finished since
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	var extra []string
	if d.RTCPMux {
		// RTCP on the RTP port is fine for us: the reader drops what is
		// not the negotiated payload type (RFC 5761 §4).
		extra = append(extra, "rtcp-mux")
	}
	s.local = s.sb.build(s.sdpAddr(), int(s.sess.Local().Port()), proto, formats, answerDirection(d.Direction), crypto, extra...)
	return s.local, nil
}

// Offer builds our offer for an outbound leg (or an offerless INVITE's
// 200): the endpoint's codecs with prefer first, plus telephone-event.
func (s *Stream) Offer(prefer codec.Codec) ([]byte, error) {
	cs := offerCodecs(s.opts.Allow, prefer)
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: nothing compiled in matches allow=%s", ErrNoCodec, strings.Join(s.opts.Allow, ","))
	}
	var formats []Format
	dyn := uint8(96)
	for _, c := range cs {
		pt := c.StaticPT()
		if pt < 0 {
			pt = int(dyn)
			dyn++
		}
		formats = append(formats, formatOf(c, uint8(pt)))
	}
	if s.dtmfRFC() {
		formats = append(formats, Format{PT: EventPT, Encoding: "telephone-event", Clock: 8000, Fmtp: "0-16"})
	}
	n := &neg{codec: cs[0], pt: formats[0].PT, dtmfPT: -1, dir: SendRecv, offered: formats}
	s.neg.Store(n)
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	proto, crypto := "RTP/AVP", ""
	if s.opts.SRTP {
		if s.ours.key == nil {
			var err error
			if s.ours, err = newSDES(1, suites[0].name, suites[0].profile); err != nil {
				return nil, err
			}
		}
		proto, crypto = "RTP/SAVP", s.ours.line()
	}
	s.local = s.sb.build(s.sdpAddr(), int(s.sess.Local().Port()), proto, formats, SendRecv, crypto)
	return s.local, nil
}

// AcceptAnswer takes the far end's answer to our Offer.
func (s *Stream) AcceptAnswer(body []byte) error {
	d, err := ParseSDP(body)
	if err != nil {
		return err
	}
	s.takeBack()
	s.kfailed.Store(false)
	old := s.neg.Load()
	n := &neg{dtmfPT: -1, dir: d.Direction, ptime: d.Ptime}
	if old != nil {
		n.offered = old.offered
	}
	n.codec, n.pt = s.pickCodec(d)
	if n.codec == nil {
		return fmt.Errorf("%w: answer has %s", ErrNoCodec, encodings(d.Formats))
	}
	if s.dtmfRFC() {
		n.dtmfPT = d.Event()
	}
	if s.opts.SRTP {
		if !strings.Contains(d.Proto, "SAVP") {
			return fmt.Errorf("%w: answer is %s", ErrSRTP, d.Proto)
		}
		theirs, err := pickCrypto(d.Crypto)
		if err != nil {
			return err
		}
		s.sdpMu.Lock()
		ours := s.ours
		s.sdpMu.Unlock()
		if theirs.suite != ours.suite {
			return fmt.Errorf("%w: answer picked %s, we offered %s", ErrSRTP, theirs.suite, ours.suite)
		}
		if err := s.keySRTP(theirs, ours); err != nil {
			return err
		}
	}
	s.neg.Store(n)
	s.setRemote(d)
	s.takeBack()
	return nil
}

// pickCodec is the first format of d the endpoint allows, in d's order.
func (s *Stream) pickCodec(d *Desc) (codec.Codec, uint8) {
	for _, f := range d.Formats {
		if c, ok := codec.ByEncoding(f.Encoding, f.Clock); ok && allowed(s.opts.Allow, c) {
			return c, f.PT
		}
	}
	return nil, 0
}

// setRemote sends to d's address unless it is a hold-style 0.0.0.0 or
// port 0, which keep the current (possibly latched) destination.
func (s *Stream) setRemote(d *Desc) {
	if d.Port > 0 && d.Addr.IsValid() && !d.Addr.IsUnspecified() {
		s.sess.SetRemote(d.RTPAddr())
	}
}

// LocalSDP is the last description we produced (answer or offer).
func (s *Stream) LocalSDP() []byte {
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	return s.local
}

func encodings(fs []Format) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Encoding)
	}
	return strings.Join(parts, ",")
}

// Audio implements channel.Media.
func (s *Stream) Audio() <-chan []int16 { return s.audio }

// Digits implements channel.Media.
func (s *Stream) Digits() <-chan byte { return s.digits }

// Join implements channel.Media.
func (s *Stream) Join(peer channel.Media) bool {
	p, ok := peer.(*Stream)
	if !ok || p == s {
		return false
	}
	s.peer.Store(p)
	p.peer.Store(s)
	return true
}

// Leave implements channel.Media.
func (s *Stream) Leave() {
	if p := s.peer.Swap(nil); p != nil {
		p.peer.CompareAndSwap(s, nil)
	}
	s.takeBack()
}

// Close ends the stream: leaves any bridge and frees the ports.
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.Leave()
	s.mgr.forget(s)
	return s.sess.Close()
}

// Write implements channel.Media: encode 8 kHz frames for the far end.
func (s *Stream) Write(pcm []int16) error {
	n := s.neg.Load()
	if n == nil || s.closed.Load() {
		return nil
	}
	s.encMu.Lock()
	defer s.encMu.Unlock()
	return s.writeLocked(n, pcm)
}

func (s *Stream) writeLocked(n *neg, pcm []int16) error {
	c := n.codec
	if s.enc == nil || s.encName != c.Name() {
		enc, err := c.NewEncoder()
		if err != nil {
			return fmt.Errorf("media: encoder %s: %w", c.Name(), err)
		}
		s.enc, s.encName, s.toWire = enc, c.Name(), nil
		if c.SampleRate() != 8000 {
			if s.toWire, err = codec.NewResampler(8000, c.SampleRate()); err != nil {
				return fmt.Errorf("media: resampler: %w", err)
			}
		}
	}
	frames := len(pcm) / 160
	if s.toWire != nil {
		pcm = s.toWire.Resample(nil, pcm)
	}
	var err error
	s.encBuf, err = s.enc.Encode(s.encBuf[:0], pcm)
	if err != nil {
		return fmt.Errorf("media: encode %s: %w", c.Name(), err)
	}
	advance := uint32(frames * c.ClockRate() / 50)
	marker := s.marker
	s.marker = false
	return s.sess.Send(n.pt, marker, s.encBuf, advance)
}

// onPacket runs on the session's reader goroutine for every packet.
func (s *Stream) onPacket(p *pionrtp.Packet, raw []byte) {
	n := s.neg.Load()
	if n == nil {
		return
	}
	peer := s.peer.Load()
	if n.dtmfPT >= 0 && int(p.PayloadType) == n.dtmfPT {
		s.onEvent(n, p, raw, peer)
		return
	}
	if s.evPending {
		// An event is open: end it if its end packets were lost.
		if pr, ok := s.rx.Flush(time.Now()); ok {
			s.press(pr, peer)
		}
		_, s.evPending = s.rx.Current()
	}
	if p.PayloadType != n.pt || len(p.Payload) == 0 {
		return // comfort noise, a codec we did not pick
	}
	if peer != nil {
		pn := peer.neg.Load()
		if pn == nil {
			return
		}
		if s.det != nil && pn.dtmfPT >= 0 {
			// dtmfmode=inband on this side, events on the other: detect
			// and send them as RFC 4733 too (the tones still pass as audio).
			if pcm := s.decode(n, p.Payload); pcm != nil {
				for _, d := range s.det.Feed(pcm) {
					_ = peer.SendDTMF(d, 100*time.Millisecond)
				}
			}
		}
		if pn.codec.Name() == n.codec.Name() {
			raw[1] = raw[1]&0x80 | pn.pt
			_ = peer.sess.WriteRaw(raw)
			if s.mgr.kf != nil {
				s.maybeOffload(peer, n, pn)
			}
			return
		}
		if pcm := s.decode(n, p.Payload); pcm != nil {
			peer.encMu.Lock()
			_ = peer.writeLocked(pn, pcm)
			peer.encMu.Unlock()
		}
		return
	}
	pcm := s.decode(n, p.Payload)
	if pcm == nil {
		return
	}
	if s.det != nil {
		for _, d := range s.det.Feed(pcm) {
			s.deliverDigit(d)
		}
	}
	frame := make([]int16, len(pcm))
	copy(frame, pcm)
	select {
	case s.audio <- frame:
	default: // nobody listening: drop the oldest, keep the newest
		select {
		case <-s.audio:
		default:
		}
		select {
		case s.audio <- frame:
		default:
		}
	}
}

// decode returns 8 kHz audio for a payload (valid until the next call).
func (s *Stream) decode(n *neg, payload []byte) []int16 {
	c := n.codec
	if s.dec == nil || s.decName != c.Name() {
		dec, err := c.NewDecoder()
		if err != nil {
			return nil
		}
		s.dec, s.decName, s.fromWire = dec, c.Name(), nil
		if c.SampleRate() != 8000 {
			if s.fromWire, err = codec.NewResampler(c.SampleRate(), 8000); err != nil {
				return nil
			}
		}
	}
	var err error
	s.decBuf, err = s.dec.Decode(s.decBuf[:0], payload)
	if err != nil {
		return nil
	}
	if s.fromWire != nil {
		return s.fromWire.Resample(nil, s.decBuf)
	}
	return s.decBuf
}

// onEvent handles an RFC 4733 packet: relayed as is when both legs share
// the codec (one SSRC, one sequence), else turned into key presses that
// are delivered to the application or sent anew by the peer.
func (s *Stream) onEvent(n *neg, p *pionrtp.Packet, raw []byte, peer *Stream) {
	if peer != nil {
		if pn := peer.neg.Load(); pn != nil && pn.dtmfPT >= 0 && pn.codec.Name() == n.codec.Name() {
			raw[1] = raw[1]&0x80 | uint8(pn.dtmfPT)
			_ = peer.sess.WriteRaw(raw)
			return
		}
	}
	if s.rx == nil {
		// Made on the first event: most calls never carry one, and the
		// receiver's ring of ended events is ~1.3 KB per stream.
		s.rx = dtmf.NewReceiver(8000, 0)
	}
	presses, err := s.rx.Feed(p.Payload, p.Timestamp, p.Marker, p.SequenceNumber, time.Now())
	_, s.evPending = s.rx.Current()
	if err != nil {
		return
	}
	for _, pr := range presses {
		s.press(pr, peer)
	}
}

func (s *Stream) press(pr dtmf.Press, peer *Stream) {
	if pr.Digit == dtmf.Flash {
		return
	}
	if peer != nil {
		_ = peer.SendDTMF(pr.Digit, pr.Duration)
		return
	}
	s.deliverDigit(pr.Digit)
}

// InjectDigit delivers a digit received out of band (SIP INFO).
func (s *Stream) InjectDigit(digit byte, d time.Duration) {
	if peer := s.peer.Load(); peer != nil {
		_ = peer.SendDTMF(digit, d)
		return
	}
	s.deliverDigit(digit)
}

func (s *Stream) deliverDigit(d byte) {
	select {
	case s.digits <- d:
	default:
	}
}

// SendDTMF implements channel.Media: RFC 4733 events when negotiated, SIP
// INFO for dtmfmode=info, else nothing (in-band generation is the
// application's job through Write).
func (s *Stream) SendDTMF(digit byte, d time.Duration) error {
	if !dtmf.Valid(digit) {
		return fmt.Errorf("media: bad DTMF digit %q", digit)
	}
	if d < dtmf.MinDuration {
		d = dtmf.DefaultDuration
	}
	n := s.neg.Load()
	if n == nil {
		return nil
	}
	if n.dtmfPT < 0 {
		if s.opts.SendInfo != nil {
			go s.opts.SendInfo(digit, d)
		}
		return nil
	}
	go s.sendEvent(uint8(n.dtmfPT), digit, d)
	return nil
}

// sendEvent sends one RFC 4733 event, a packet every 20 ms with the start
// timestamp, the end three times (RFC 4733 §2.5.1.4), then moves our clock
// past it.
func (s *Stream) sendEvent(pt, digit byte, d time.Duration) {
	snd := dtmf.NewSender(digit, d, 8000)
	ts := s.sess.Clock()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		payload, marker, end, ok := snd.Next()
		if !ok || s.closed.Load() {
			break
		}
		if err := s.sess.SendAt(pt, marker, payload, ts); err != nil {
			return
		}
		if !end {
			<-t.C
		}
	}
	s.sess.Advance(uint32(snd.Duration() * 8000 / time.Second))
}
