package dtmf

import (
	"testing"
	"time"
)

// FuzzReceiver feeds arbitrary packet streams: no panics, valid digits, and
// no more presses than events started.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{5, 0x0a, 0, 160, 5, 0x8a, 3, 32, 5, 0x8a, 3, 32})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReceiver(8000, 0)
		now := time.Unix(0, 0)
		var packets, presses int
		for i := 0; i+6 <= len(data); i += 6 {
			ts := uint32(data[i+4]) << 8
			got, err := r.Feed(data[i:i+4], ts, data[i+5]&1 != 0, uint16(i), now)
			if err == nil {
				packets++
			}
			for _, p := range got {
				if !Valid(p.Digit) {
					t.Fatalf("invalid digit in %+v", p)
				}
			}
			presses += len(got)
			if presses > packets {
				t.Fatalf("%d presses from %d packets", presses, packets)
			}
			now = now.Add(time.Duration(data[i+5]) * time.Millisecond)
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, _, err := ParseInfo(ct, body)
		if err == nil && !Valid(d) {
			t.Fatalf("invalid digit %q without error", d)
		}
	})
}
