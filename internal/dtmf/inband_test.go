package dtmf

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/tones"
)

// render plays g to the end.
func render(t *testing.T, g *Generator) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, tones.FrameSamples)
	for !g.Done() {
		out = append(out, g.Read(buf)...)
		if len(out) > 8000*60 {
			t.Fatal("generator does not end")
		}
	}
	return out
}

// synth returns n samples of sines at freqs with peak amplitudes amps.
func synth(n int, freqs, amps []float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for j, f := range freqs {
			v += amps[j] * math.Sin(2*math.Pi*f*float64(i)/8000)
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

func silence(n int) []int16 { return make([]int16, n) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// addNoise adds white Gaussian noise snr dB below x's power.
func addNoise(x []int16, snr float64, seed uint64) []int16 {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	p /= float64(len(x))
	sigma := math.Sqrt(p / math.Pow(10, snr/10))
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, float64(v)+rng.NormFloat64()*sigma)))
	}
	return out
}

// detect feeds x to a new Detector in 20 ms frames.
func detect(x []int16) string {
	d := NewDetector()
	var got []byte
	for len(x) > 0 {
		n := min(len(x), tones.FrameSamples)
		got = append(got, d.Feed(x[:n])...)
		x = x[n:]
	}
	return string(got)
}

func TestTone(t *testing.T) {
	tests := map[byte][2]int{'1': {697, 1209}, '5': {770, 1336}, '9': {852, 1477}, '*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477}, 'A': {697, 1633}, 'd': {941, 1633}, '!': {0, 0}, 'x': {0, 0}}
	for d, want := range tests {
		if f1, f2 := Tone(d); f1 != want[0] || f2 != want[1] {
			t.Errorf("Tone(%q) = %d, %d; want %v", d, f1, f2, want)
		}
	}
}

func TestDetectAllDigits(t *testing.T) {
	const all = "0123456789*#ABCD"
	for i := range len(all) {
		d := all[i]
		t.Run(string(d), func(t *testing.T) {
			g, err := NewGenerator(string(d), 0, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			x := concat(silence(37), render(t, g)) // off the block grid
			if got := detect(x); got != string(d) {
				t.Errorf("clean: detected %q", got)
			}
			for seed := range uint64(5) {
				if got := detect(addNoise(x, 20, seed)); got != string(d) {
					t.Errorf("20 dB SNR, seed %d: detected %q", seed, got)
				}
			}
		})
	}
}

func TestDetectSequence(t *testing.T) {
	for _, digits := range []string{"123#", "1155", "9*0D"} {
		g, err := NewGenerator(digits, 100*time.Millisecond, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		x := render(t, g)
		if got := detect(x); got != digits {
			t.Errorf("%s: detected %q", digits, got)
		}
		if got := detect(addNoise(x, 20, 7)); got != digits {
			t.Errorf("%s with noise: detected %q", digits, got)
		}
	}
}

func TestDetectDuration(t *testing.T) {
	for _, tt := range []struct {
		ms   int
		want string
	}{{20, ""}, {40, "5"}, {60, "5"}, {1000, "5"}} {
		for _, offset := range []int{0, 51, 101} {
			x := concat(silence(offset), synth(tt.ms*8, []float64{770, 1336}, []float64{7219, 7219}), silence(800))
			if got := detect(x); got != tt.want {
				t.Errorf("%d ms at offset %d: detected %q, want %q", tt.ms, offset, got, tt.want)
			}
		}
	}
}

func TestDetectTwist(t *testing.T) {
	// Level of the low (row) group relative to the high (column) group, dB.
	tests := []struct {
		lowOverHigh float64
		want        string
	}{
		{0, "8"}, {6, "8"}, {7.5, "8"}, {9, ""}, {12, ""}, // normal twist: ≤ 8 dB
		{-3, "8"}, {-3.8, "8"}, {-5, ""}, {-8, ""}, // reverse twist: ≤ 4 dB
	}
	for _, tt := range tests {
		high := 5000.0
		low := high * math.Pow(10, tt.lowOverHigh/20)
		x := synth(1600, []float64{852, 1336}, []float64{low, high})
		if got := detect(x); got != tt.want {
			t.Errorf("low group %+.1f dB: detected %q, want %q", tt.lowOverHigh, got, tt.want)
		}
	}
}

func TestDetectRejects(t *testing.T) {
	tests := map[string][]int16{
		"silence":  silence(8000),
		"1000 Hz":  synth(16000, []float64{1000}, []float64{20000}),
		"697 Hz":   synth(16000, []float64{697}, []float64{10000}),
		"1209 Hz":  synth(16000, []float64{1209}, []float64{10000}),
		"noise":    addNoise(synth(16000, []float64{1000}, []float64{1}), -60, 3),
		"too weak": synth(4000, []float64{697, 1209}, []float64{100, 100}), // -47 dBm0
		// A third tone in the low group fails the relative peak test.
		"chord": synth(4000, []float64{697, 770, 1209}, []float64{7000, 6000, 7000}),
		// A strong second harmonic fails the energy test.
		"harmonics": synth(4000, []float64{697, 1209, 1394, 2418}, []float64{7000, 7000, 4000, 4000}),
	}
	tests["voice"] = voice(5 * 8000)
	tests["voice+noise"] = addNoise(voice(5*8000), 15, 9)
	for name, x := range tests {
		if got := detect(x); got != "" {
			t.Errorf("%s: detected %q", name, got)
		}
	}
}

// voice imitates voiced speech: a pitch sweeping 90-300 Hz with 30
// harmonics under moving formants, the classic DTMF talk-off source.
func voice(n int) []int16 {
	out := make([]int16, n)
	var phase float64
	for i := range out {
		sec := float64(i) / 8000
		f0 := 195 + 105*math.Sin(2*math.Pi*0.7*sec)
		phase += 2 * math.Pi * f0 / 8000
		f1 := 500 + 300*math.Sin(2*math.Pi*1.3*sec)  // first formant
		f2 := 1500 + 600*math.Sin(2*math.Pi*0.9*sec) // second formant
		var v float64
		for h := 1; h <= 30; h++ {
			fh := f0 * float64(h)
			if fh > 3800 {
				break
			}
			d1, d2 := (fh-f1)/150, (fh-f2)/200
			a := 1/(1+d1*d1) + 0.7/(1+d2*d2)
			v += a * math.Sin(float64(h)*phase)
		}
		out[i] = int16(max(-32768, min(32767, v*3000)))
	}
	return out
}

func TestGeneratorErrors(t *testing.T) {
	for _, s := range []string{"", "12x", "!"} {
		if _, err := NewGenerator(s, 0, 0); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	g, err := NewGenerator("1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if x := render(t, g); len(x) != 800 {
		t.Errorf("100 ms digit: %d samples", len(x))
	}
}

// TestSox cross-checks the detector against DTMF made by sox, when sox is
// installed.
func TestSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	var all []int16
	for _, d := range []byte("159#") {
		f1, f2 := Tone(d)
		out := filepath.Join(t.TempDir(), "d.raw")
		cmd := exec.Command(sox, "-n", "-r", "8000", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", out,
			"synth", "0.1", "sine", strconv.Itoa(f1), "sine", strconv.Itoa(f2), "remix", "-", "gain", "-8", "pad", "0", "0.06")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sox: %v: %s", err, msg)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(raw); i += 2 {
			all = append(all, int16(uint16(raw[i])|uint16(raw[i+1])<<8))
		}
	}
	if got := detect(all); got != "159#" {
		t.Errorf("detected %q in sox audio", got)
	}
}

func BenchmarkDetector(b *testing.B) {
	d := NewDetector()
	x := voice(tones.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(x)
	}
}
