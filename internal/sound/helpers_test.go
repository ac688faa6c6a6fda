package sound

import (
	"errors"
	"io"
	"math"
	"os/exec"
	"testing"

	"github.com/gopbx/gopbx/internal/codec"
)

// sine returns n samples of a tone at freq Hz and 8 kHz.
func sine(n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return out
}

// readAll drains r, checking every frame is exactly FrameSamples long.
func readAll(t *testing.T, r *Reader) []int16 {
	t.Helper()
	var all, frame []int16
	for {
		var err error
		frame, err = r.Read(frame)
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(frame) != FrameSamples {
			t.Fatalf("frame of %d samples, want %d", len(frame), FrameSamples)
		}
		all = append(all, frame...)
	}
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(s))))
}

// zeroCrossings counts sign changes, about 2*freq per second for a tone.
func zeroCrossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return n
}

// snr is the signal-to-noise ratio of got against want in dB.
func snr(want, got []int16) float64 {
	var sig, noise float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

func needSox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	return p
}

func needCodec(t *testing.T, name string) {
	t.Helper()
	if _, ok := codec.Lookup(name); !ok {
		t.Skipf("codec %s not available yet", name)
	}
}
