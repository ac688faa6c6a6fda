package location_test

import (
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

func TestSupersedes(t *testing.T) {
	old := location.Binding{CallID: "a", CSeq: 10}
	tests := []struct {
		name   string
		callID string
		cseq   uint32
		want   bool
	}{
		{"higher cseq", "a", 11, true},
		{"same cseq", "a", 10, false},
		{"lower cseq", "a", 9, false},
		{"new call-id, lower cseq", "b", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := location.Binding{CallID: tt.callID, CSeq: tt.cseq}
			if got := b.Supersedes(old); got != tt.want {
				t.Errorf("Supersedes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		a, b location.Binding
		want int // sign
	}{
		{"higher q first", location.Binding{Q: 0.9}, location.Binding{Q: 0.1}, -1},
		{"no q ranks as 1.0", location.Binding{Q: location.NoQ}, location.Binding{Q: 0.9}, -1},
		{"no q ties with 1.0, newer first", location.Binding{Q: location.NoQ, Updated: now}, location.Binding{Q: 1, Updated: now.Add(time.Second)}, 1},
		{"q 0 is lowest", location.Binding{Q: 0}, location.Binding{Q: 0.1}, 1},
		{"same q, newer first", location.Binding{Q: 0.5, Updated: now.Add(time.Second)}, location.Binding{Q: 0.5, Updated: now}, -1},
		{"tie broken by contact", location.Binding{Contact: "sip:a", Updated: now}, location.Binding{Contact: "sip:b", Updated: now}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := location.Compare(tt.a, tt.b)
			if sign(got) != tt.want {
				t.Errorf("Compare = %d, want sign %d", got, tt.want)
			}
			if back := location.Compare(tt.b, tt.a); sign(back) != -tt.want {
				t.Errorf("Compare reversed = %d, want sign %d", back, -tt.want)
			}
		})
	}
}

func TestLive(t *testing.T) {
	now := time.Now()
	b := location.Binding{Expires: now}
	if b.Live(now) {
		t.Error("a binding is live at its Expires")
	}
	if !b.Live(now.Add(-time.Nanosecond)) {
		t.Error("a binding is not live just before its Expires")
	}
	if (location.Binding{}).Live(now) {
		t.Error("the zero Binding is live")
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
