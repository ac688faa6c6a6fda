package dtmf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		ct, body string
		digit    byte
		dur      time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond},
		{"application/dtmf-relay", "Signal= #\r\nDuration= 250\r\n", '#', 250 * time.Millisecond},
		{"Application/DTMF-Relay; charset=UTF-8", "signal=*\nduration=90\n", '*', 90 * time.Millisecond},
		{"application/dtmf-relay", "Signal=b\r\n", 'B', DefaultDuration},
		{"application/dtmf-relay", "Signal=11\r\nDuration=x\r\n", '#', DefaultDuration},
		{"application/dtmf-relay", "Signal=16\r\nDuration=100\r\n", Flash, 100 * time.Millisecond},
		{"application/dtmf-relay", "Signal=!\r\n", Flash, DefaultDuration},
		{"application/dtmf", "5", '5', 0},
		{"application/dtmf", "  0\r\n", '0', 0},
		{"application/dtmf", "12", 'A', 0},
		{"application/hook-flash", "signal=hf\r\n", Flash, 0},
	}
	for _, tt := range tests {
		d, dur, err := ParseInfo(tt.ct, []byte(tt.body))
		if err != nil || d != tt.digit || dur != tt.dur {
			t.Errorf("%s %q: got %q %v %v; want %q %v", tt.ct, tt.body, d, dur, err, tt.digit, tt.dur)
		}
	}
}

func TestParseInfoErrors(t *testing.T) {
	tests := []struct{ ct, body, want string }{
		{"application/sdp", "v=0", "not DTMF"},
		{"", "5", "content type"},
		{"application/dtmf-relay", "", "no Signal"},
		{"application/dtmf-relay", "Duration=100\r\n", "no Signal"},
		{"application/dtmf-relay", "Signal=17\r\n", `signal "17"`},
		{"application/dtmf-relay", "Signal=\r\n", `signal ""`},
		{"application/dtmf", "x", `signal "x"`},
	}
	for _, tt := range tests {
		_, _, err := ParseInfo(tt.ct, []byte(tt.body))
		if !errors.Is(err, ErrInfo) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: err %v, want ErrInfo containing %q", tt.ct, tt.body, err, tt.want)
		}
	}
}

func TestFormatInfoRelay(t *testing.T) {
	if got := string(FormatInfoRelay('5', 160*time.Millisecond)); got != "Signal=5\r\nDuration=160\r\n" {
		t.Errorf("got %q", got)
	}
	if got := string(FormatInfoRelay('d', 0)); got != "Signal=D\r\nDuration=100\r\n" {
		t.Errorf("got %q", got)
	}
	for _, d := range []byte("0123456789*#ABCD!") {
		got, dur, err := ParseInfo("application/dtmf-relay", FormatInfoRelay(d, 80*time.Millisecond))
		if err != nil || got != d || dur != 80*time.Millisecond {
			t.Errorf("%q: round trip %q %v %v", d, got, dur, err)
		}
	}
}
