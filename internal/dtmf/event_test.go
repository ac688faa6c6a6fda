package dtmf

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	for code := range uint8(17) {
		d, err := Digit(code)
		if err != nil {
			t.Fatal(err)
		}
		e := Event{Digit: d, End: code%2 == 0, Volume: code, Duration: uint16(code) * 160}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != code {
			t.Errorf("%q: event code %d, want %d", d, b[0], code)
		}
		var got Event
		if err := got.Unmarshal(b); err != nil || got != e {
			t.Errorf("round trip %+v -> % x -> %+v, %v", e, b, got, err)
		}
	}
}

func TestEventWire(t *testing.T) {
	// RFC 4733 §2.3: digit 5, E bit, volume 10, duration 800.
	b, err := Event{Digit: '5', End: true, Volume: 10, Duration: 800}.Marshal()
	if err != nil || !bytes.Equal(b, []byte{5, 0x8a, 0x03, 0x20}) {
		t.Errorf("got % x, %v", b, err)
	}
	var e Event
	// The R bit (0x40) is ignored; lower case digits marshal as upper case.
	if err := e.Unmarshal([]byte{13, 0x40 | 7, 0, 160, 0xff}); err != nil || e != (Event{Digit: 'B', Volume: 7, Duration: 160}) {
		t.Errorf("got %+v, %v", e, err)
	}
	if b, _ := (Event{Digit: 'c'}).Marshal(); b[0] != 14 {
		t.Errorf("'c' -> %d", b[0])
	}
	if err := e.Unmarshal([]byte{1, 2, 3}); !errors.Is(err, ErrShortPayload) {
		t.Errorf("short: %v", err)
	}
	if err := e.Unmarshal([]byte{36, 0, 0, 0}); !errors.Is(err, ErrUnknownEvent) { // fax CNG
		t.Errorf("CNG: %v", err)
	}
	if _, err := (Event{Digit: 'x'}).Marshal(); !errors.Is(err, ErrDigit) {
		t.Errorf("bad digit: %v", err)
	}
	if _, err := (Event{Digit: '1', Volume: 64}).Marshal(); err == nil {
		t.Error("volume 64 accepted")
	}
}

// packet is what an RTP layer would put on the wire for a Sender item.
type packet struct {
	payload []byte
	ts      uint32
	marker  bool
	seq     uint16
}

// send returns the packets of digit pressed for dur at timestamp ts,
// numbered from seq.
func send(t *testing.T, digit byte, dur time.Duration, ts uint32, seq uint16) []packet {
	t.Helper()
	var out []packet
	s := NewSender(digit, dur, 8000)
	for {
		p, m, _, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, packet{p, ts, m, seq})
		seq++
	}
}

func TestSender(t *testing.T) {
	type item struct {
		marker, end bool
		dur         uint16
	}
	collect := func(s *Sender) []item {
		var out []item
		for {
			p, m, e, ok := s.Next()
			if !ok {
				return out
			}
			var ev Event
			if err := ev.Unmarshal(p); err != nil {
				t.Fatal(err)
			}
			if ev.End != e || ev.Volume != 10 || ev.Digit != '7' {
				t.Fatalf("payload %+v, end %v", ev, e)
			}
			out = append(out, item{m, e, ev.Duration})
		}
	}
	tests := []struct {
		dur   time.Duration
		clock int
		want  []item
	}{
		{0, 8000, []item{{true, false, 160}, {false, false, 320}, {false, false, 480}, {false, false, 640}, {false, true, 800}, {false, true, 800}, {false, true, 800}}},
		{10 * time.Millisecond, 8000, []item{{true, false, 160}, {false, true, 320}, {false, true, 320}, {false, true, 320}}},
		{50 * time.Millisecond, 8000, []item{{true, false, 160}, {false, false, 320}, {false, true, 480}, {false, true, 480}, {false, true, 480}}},
		{40 * time.Millisecond, 48000, []item{{true, false, 960}, {false, true, 1920}, {false, true, 1920}, {false, true, 1920}}},
	}
	for _, tt := range tests {
		got := collect(NewSender('7', tt.dur, tt.clock))
		if len(got) != len(tt.want) {
			t.Errorf("dur %v: got %v, want %v", tt.dur, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("dur %v item %d: got %+v, want %+v", tt.dur, i, got[i], tt.want[i])
			}
		}
	}
	long := NewSender('1', time.Minute, 8000)
	if long.Duration() != 8180*time.Millisecond {
		t.Errorf("long digit capped at %v", long.Duration())
	}
	if _, _, _, ok := NewSender('x', 0, 8000).Next(); ok {
		t.Error("Sender for 'x' sent a packet")
	}
}

func TestReceiver(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// feed plays packets 20 ms apart and collects presses, flushing at the end.
	feed := func(r *Receiver, pkts []packet, start time.Time) ([]Press, time.Time) {
		t.Helper()
		var out []Press
		now := start
		for _, p := range pkts {
			got, err := r.Feed(p.payload, p.ts, p.marker, p.seq, now)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, got...)
			now = now.Add(20 * time.Millisecond)
		}
		return out, now
	}
	digits := func(ps []Press) string {
		var b []byte
		for _, p := range ps {
			b = append(b, p.Digit)
		}
		return string(b)
	}
	drop := func(pkts []packet, idx ...int) []packet {
		var out []packet
	next:
		for i, p := range pkts {
			for _, j := range idx {
				if i == j || (j < 0 && i == len(pkts)+j) {
					continue next
				}
			}
			out = append(out, p)
		}
		return out
	}

	t.Run("redundant ends", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		got, _ := feed(r, send(t, '5', 100*time.Millisecond, 1000, 1), t0)
		if len(got) != 1 || got[0] != (Press{Digit: '5', Duration: 100 * time.Millisecond, Timestamp: 1000}) {
			t.Errorf("got %+v", got)
		}
		if _, ok := r.Flush(t0.Add(time.Hour)); ok {
			t.Error("Flush reported a finished press")
		}
	})
	t.Run("lost start", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		got, _ := feed(r, drop(send(t, '#', 100*time.Millisecond, 1000, 1), 0, 1), t0)
		if digits(got) != "#" || got[0].Duration != 100*time.Millisecond || got[0].NoEnd {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("only one end packet", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		got, _ := feed(r, send(t, '9', 100*time.Millisecond, 1000, 1)[6:], t0)
		if digits(got) != "9" || got[0].Duration != 100*time.Millisecond {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("lost ends time out", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		pkts := send(t, '3', 100*time.Millisecond, 1000, 1)
		got, now := feed(r, pkts[:4], t0)
		if len(got) != 0 {
			t.Fatalf("early %+v", got)
		}
		if d, ok := r.Current(); !ok || d != '3' {
			t.Errorf("Current = %q, %v", d, ok)
		}
		if _, ok := r.Flush(now.Add(100 * time.Millisecond)); ok {
			t.Error("flushed before the timeout")
		}
		p, ok := r.Flush(now.Add(DefaultTimeout))
		if !ok || p.Digit != '3' || !p.NoEnd || p.Duration != 80*time.Millisecond {
			t.Errorf("Flush = %+v, %v", p, ok)
		}
		// The end packets arriving late must not report it again.
		late, _ := feed(r, pkts[4:], now.Add(time.Second))
		if len(late) != 0 {
			t.Errorf("late ends reported %+v", late)
		}
	})
	t.Run("lost ends, next digit", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		a := send(t, '1', 100*time.Millisecond, 1000, 1)[:4]
		b := send(t, '2', 100*time.Millisecond, 2600, 5)
		got, _ := feed(r, append(a, b...), t0)
		if digits(got) != "12" || !got[0].NoEnd || got[1].NoEnd {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("only an end packet after lost ends", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		a := send(t, '1', 100*time.Millisecond, 1000, 1)[:4]
		b := send(t, '2', 100*time.Millisecond, 2600, 5)[6:]
		got, _ := feed(r, append(a, b...), t0)
		if digits(got) != "12" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("reordering", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		p := send(t, '4', 100*time.Millisecond, 1000, 1)
		// Start and an update swap, an end overtakes the last update.
		order := []packet{p[1], p[0], p[2], p[4], p[3], p[5], p[6]}
		got, _ := feed(r, order, t0)
		if len(got) != 1 || got[0].Digit != '4' || got[0].Duration != 100*time.Millisecond {
			t.Errorf("got %+v", got)
		}
		// A straggler of the first digit after the second began is dropped.
		q := send(t, '6', 100*time.Millisecond, 2600, 8)
		got, _ = feed(r, append([]packet{q[0], p[2]}, q[1:]...), t0)
		if digits(got) != "6" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("stale event dropped", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		newer := send(t, '8', 100*time.Millisecond, 5000, 10)
		older := send(t, '7', 100*time.Millisecond, 3000, 1)
		got, _ := feed(r, append(newer, older...), t0)
		if digits(got) != "8" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("same digit twice", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		a := send(t, '5', 100*time.Millisecond, 1000, 1)
		b := send(t, '5', 100*time.Millisecond, 2600, 8)
		got, _ := feed(r, append(a, b...), t0)
		if digits(got) != "55" || got[0].Timestamp == got[1].Timestamp {
			t.Errorf("got %+v", got)
		}
		// With the first one's ends lost too.
		r = NewReceiver(8000, 0)
		got, _ = feed(r, append(a[:3], b...), t0)
		if digits(got) != "55" {
			t.Errorf("lost ends: got %+v", got)
		}
	})
	t.Run("sender reusing the timestamp", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		a := send(t, '5', 100*time.Millisecond, 1000, 1)
		b := send(t, '5', 100*time.Millisecond, 1000, 8)
		got, _ := feed(r, append(a, b...), t0)
		if digits(got) != "55" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("timestamp wrap", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		a := send(t, '1', 100*time.Millisecond, 0xffffff00, 1)
		b := send(t, '2', 100*time.Millisecond, 0x00000400, 8)
		got, _ := feed(r, append(a, b...), t0)
		if digits(got) != "12" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("not dtmf", func(t *testing.T) {
		r := NewReceiver(8000, 0)
		if _, err := r.Feed([]byte{36, 0, 0, 160}, 1, true, 1, t0); !errors.Is(err, ErrUnknownEvent) {
			t.Errorf("err %v", err)
		}
		if _, ok := r.Current(); ok {
			t.Error("CNG started an event")
		}
	})
}

func TestSenderToReceiver(t *testing.T) {
	r := NewReceiver(16000, 0)
	s := NewSender('D', 250*time.Millisecond, 16000)
	var got []Press
	for seq := uint16(0); ; seq++ {
		p, m, _, ok := s.Next()
		if !ok {
			break
		}
		ps, err := r.Feed(p, 4242, m, seq, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ps...)
	}
	if len(got) != 1 || got[0].Digit != 'D' || got[0].Duration != 260*time.Millisecond {
		t.Errorf("got %+v", got)
	}
}
