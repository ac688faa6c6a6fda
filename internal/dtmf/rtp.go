package dtmf

import (
	"time"
)

// DefaultTimeout is how long a Receiver waits after the last packet of an
// event without an end before it ends the event itself. It outlasts two
// lost updates at the 50 ms interval RFC 4733 suggests.
const DefaultTimeout = 200 * time.Millisecond

// Press is one key press received as RFC 4733 events.
type Press struct {
	Digit     byte
	Duration  time.Duration // the longest duration the sender reported
	Timestamp uint32        // RTP timestamp of the event
	// NoEnd is true when no end packet arrived: the event timed out or a
	// newer event replaced it. Duration is then a lower bound.
	NoEnd bool
}

// endedRing is how many finished events a Receiver remembers, to drop their
// redundant end packets and late retransmissions.
const endedRing = 8

// Receiver turns a stream of RFC 4733 packets into key presses, each
// reported once however many redundant, reordered or lost packets carried
// it. Events are told apart by RTP timestamp, so the same digit pressed
// twice is two presses.
type Receiver struct {
	clockRate int
	timeout   time.Duration

	active bool
	cur    event // valid while active

	newest     uint32 // timestamp of the newest event seen
	haveNewest bool

	ended  [endedRing]event
	nEnded int
}

type event struct {
	ts    uint32
	digit byte
	dur   uint16
	seq   uint16
	last  time.Time // arrival of the latest packet
}

// NewReceiver returns a Receiver for telephone-events at clockRate (8000
// unless negotiated otherwise) that ends an event with no end packet
// timeout after its last packet (DefaultTimeout if timeout <= 0).
func NewReceiver(clockRate int, timeout time.Duration) *Receiver {
	if clockRate <= 0 {
		clockRate = 8000
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Receiver{clockRate: clockRate, timeout: timeout}
}

// Feed processes one telephone-event packet that arrived at now and returns
// the presses it completed: usually none, one on the first end packet, and
// two when a new event also shows that an earlier one lost its end. A
// payload that is not a DTMF event returns an error and changes nothing.
func (r *Receiver) Feed(payload []byte, ts uint32, marker bool, seq uint16, now time.Time) ([]Press, error) {
	var e Event
	if err := e.Unmarshal(payload); err != nil {
		return nil, err
	}
	var out []Press
	if p, ok := r.Flush(now); ok {
		out = append(out, p)
	}
	if r.active && ts == r.cur.ts && e.Digit == r.cur.digit {
		// An update, or the first end packet, of the current event. Durations
		// only grow, so the largest one wins whatever the arrival order.
		r.cur.dur = max(r.cur.dur, e.Duration)
		r.cur.last = now
		if seqAfter(seq, r.cur.seq) {
			r.cur.seq = seq
		}
		if e.End {
			out = append(out, r.finish(false))
		}
		return out, nil
	}
	if ended, ok := r.findEnded(ts, e.Digit); ok {
		// A redundant end or a late update of a reported event. Some senders
		// reuse the timestamp for the next press of the same key; that shows
		// as a marked start after the end packets.
		if !(marker && !e.End && seqAfter(seq, ended.seq)) {
			return out, nil
		}
		r.forget(ts)
	} else if r.haveNewest && int32(ts-r.newest) < 0 {
		// An event older than one already seen: reporting it now would put
		// digits out of order.
		return out, nil
	}
	if r.active {
		out = append(out, r.finish(true)) // its end packets were lost
	}
	r.active = true
	r.cur = event{ts: ts, digit: e.Digit, dur: e.Duration, seq: seq, last: now}
	r.newest, r.haveNewest = ts, true
	if e.End { // the start and every update were lost
		out = append(out, r.finish(false))
	}
	return out, nil
}

// Flush ends the current event if no packet for it arrived within the
// timeout before now. Call it from the media loop's tick so a press whose
// end packets were all lost is still reported.
func (r *Receiver) Flush(now time.Time) (Press, bool) {
	if !r.active || now.Sub(r.cur.last) < r.timeout {
		return Press{}, false
	}
	return r.finish(true), true
}

// Current returns the digit of the event in progress, for callers that act
// on the start of a press (muting audio, say) rather than its end.
func (r *Receiver) Current() (byte, bool) {
	if !r.active {
		return 0, false
	}
	return r.cur.digit, true
}

func (r *Receiver) finish(noEnd bool) Press {
	r.active = false
	r.ended[r.nEnded%endedRing] = r.cur
	r.nEnded++
	return Press{
		Digit:     r.cur.digit,
		Duration:  time.Duration(r.cur.dur) * time.Second / time.Duration(r.clockRate),
		Timestamp: r.cur.ts,
		NoEnd:     noEnd,
	}
}

func (r *Receiver) findEnded(ts uint32, digit byte) (event, bool) {
	for i := range min(r.nEnded, endedRing) {
		if e := r.ended[i]; e.ts == ts && e.digit == digit {
			return e, true
		}
	}
	return event{}, false
}

func (r *Receiver) forget(ts uint32) {
	for i := range min(r.nEnded, endedRing) {
		if r.ended[i].ts == ts {
			r.ended[i].digit = 0
		}
	}
}

// seqAfter reports whether RTP sequence number a is after b, modulo 2^16.
func seqAfter(a, b uint16) bool { return int16(a-b) > 0 }

// DefaultDuration is the length of a digit when none is given, as in
// Asterisk.
const DefaultDuration = 100 * time.Millisecond

// MinDuration is the shortest digit a Sender sends (ETSI ES 201 235-3's
// 40 ms recognition minimum).
const MinDuration = 40 * time.Millisecond

// ptime is the packet interval of a Sender.
const ptime = 20 * time.Millisecond

// senderVolume is the volume field Asterisk sends (-10 dBm0).
const senderVolume = 10

// Sender produces the RFC 4733 packets of one digit, one per 20 ms tick:
// a start packet with the marker bit, updates with growing durations, and
// three end packets, all for the same RTP timestamp (the time the digit
// began). The RTP layer stamps each with that timestamp and the next
// sequence number.
type Sender struct {
	code  uint8
	spt   int // timestamp units per tick
	ticks int // ticks of tone
	i     int // next packet
	valid bool
}

// NewSender returns a Sender for digit lasting dur (DefaultDuration if 0,
// at least MinDuration, rounded up to whole 20 ms ticks, and at most what
// the 16-bit duration field holds: 8.19 s at 8000 Hz) for a
// telephone-event clock of clockRate Hz (8000 if <= 0). For a byte that is
// not a digit, Next returns ok == false at once.
func NewSender(digit byte, dur time.Duration, clockRate int) *Sender {
	if clockRate <= 0 {
		clockRate = 8000
	}
	code, err := Code(digit)
	s := &Sender{code: code, spt: max(1, clockRate*int(ptime/time.Millisecond)/1000), valid: err == nil}
	if dur == 0 {
		dur = DefaultDuration
	}
	dur = max(dur, MinDuration)
	s.ticks = int((dur + ptime - 1) / ptime)
	s.ticks = min(s.ticks, 0xffff/s.spt)
	return s
}

// Next returns the next packet's payload, whether it carries the marker
// bit and the end bit, and false once all packets have been sent. Each
// payload is a new slice.
func (s *Sender) Next() (payload []byte, marker bool, end bool, ok bool) {
	if !s.valid || s.i >= s.ticks+2 {
		return nil, false, false, false
	}
	i := s.i
	s.i++
	end = i >= s.ticks-1
	dur := (i + 1) * s.spt
	if end {
		dur = s.ticks * s.spt
	}
	flags := byte(senderVolume)
	if end {
		flags |= 0x80
	}
	return []byte{s.code, flags, byte(dur >> 8), byte(dur)}, i == 0, end, true
}

// Duration returns the length of the digit as sent.
func (s *Sender) Duration() time.Duration { return time.Duration(s.ticks) * ptime }
