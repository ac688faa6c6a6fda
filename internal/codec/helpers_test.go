package codec

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sine returns n samples of a sine of freq Hz at rate with peak amplitude amp.
func sine(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// toneSNR fits a sine of freq (any phase, amplitude and DC) to x by least
// squares and returns the ratio of the fitted tone power to the residual
// power in dB. It measures quality without having to know the codec delay.
func toneSNR(x []int16, rate int, freq float64) float64 {
	var ss, sc, cc, sy, cy, n, sumy float64
	for i, v := range x {
		w := 2 * math.Pi * freq * float64(i) / float64(rate)
		s, c := math.Sin(w), math.Cos(w)
		y := float64(v)
		ss += s * s
		cc += c * c
		sc += s * c
		sy += s * y
		cy += c * y
		sumy += y
		n++
	}
	det := ss*cc - sc*sc
	a := (sy*cc - cy*sc) / det
	b := (cy*ss - sy*sc) / det
	mean := sumy / n
	var sig, noise float64
	for i, v := range x {
		w := 2 * math.Pi * freq * float64(i) / float64(rate)
		fit := a*math.Sin(w) + b*math.Cos(w)
		sig += fit * fit
		e := float64(v) - mean - fit
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// dominantFreq returns the frequency (1 Hz resolution steps of 10 Hz) with
// the most energy in x, by Goertzel over 50..rate/2.
func dominantFreq(x []int16, rate int) float64 {
	best, bestP := 0.0, -1.0
	for f := 50.0; f < float64(rate)/2; f += 10 {
		if p := goertzel(x, rate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func goertzel(x []int16, rate int, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// needSox returns the sox path or skips; in CI (CI=true) a missing sox fails.
func needSox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sox is required in CI: %v", err)
		}
		t.Skip("sox not installed")
	}
	return p
}

// runSox runs sox with args in dir and fails the test on error.
func runSox(t *testing.T, sox, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(sox, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, out)
	}
}

func writeS16(t *testing.T, path string, pcm []int16) {
	t.Helper()
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, pcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readS16(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, pcm); err != nil {
		t.Fatal(err)
	}
	return pcm
}

func tmpPath(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}
