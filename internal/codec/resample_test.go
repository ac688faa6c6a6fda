package codec

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestResamplerQuality(t *testing.T) {
	pairs := [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}, {8000, 8000}}
	for _, p := range pairs {
		from, to := p[0], p[1]
		t.Run(rateName(from, to), func(t *testing.T) {
			r, err := NewResampler(from, to)
			if err != nil {
				t.Fatal(err)
			}
			in := sine(from, from, 1000, 10000) // 1 s
			var out, buf []int16
			frame := from / 50
			for i := 0; i < len(in); i += frame {
				buf = r.Resample(buf, in[i:i+frame])
				if len(buf) != to/50 {
					t.Fatalf("frame gave %d samples, want %d", len(buf), to/50)
				}
				out = append(out, buf...)
			}
			out = out[to/10:] // skip the filter's start-up transient
			if f := dominantFreq(out, to); f != 1000 {
				t.Errorf("dominant frequency %v, want 1000", f)
			}
			if snr := toneSNR(out, to, 1000); snr < 60 {
				t.Errorf("SNR %.1f dB < 60", snr)
			}
			if g := rms(out) / rms(in); math.Abs(20*math.Log10(g)) > 0.1 {
				t.Errorf("gain %.3f dB", 20*math.Log10(g))
			}
		})
	}
}

// TestResamplerAliasing feeds a tone above the target Nyquist frequency;
// a proper anti-alias filter removes it, linear interpolation would not.
func TestResamplerAliasing(t *testing.T) {
	for _, c := range []struct{ from, to int }{{16000, 8000}, {48000, 8000}, {48000, 16000}} {
		t.Run(rateName(c.from, c.to), func(t *testing.T) {
			r, _ := NewResampler(c.from, c.to)
			f := float64(c.to)/2 + 1000 // would alias to Nyquist-1000
			in := sine(c.from, c.from, f, 20000)
			out := r.Resample(nil, in)[c.to/10:]
			if lvl := 20 * math.Log10(rms(out)/rms(in)); lvl > -60 {
				t.Errorf("%.0f Hz leaks at %.1f dB, want < -60", f, lvl)
			}
		})
	}
	// Imaging: 8k -> 16k must not create the 8000-1000 Hz image.
	r, _ := NewResampler(8000, 16000)
	out := r.Resample(nil, sine(8000, 8000, 1000, 20000))[1600:]
	if lvl := 10 * math.Log10(goertzel(out, 16000, 7000)/goertzel(out, 16000, 1000)); lvl > -60 {
		t.Errorf("7 kHz image at %.1f dB", lvl)
	}
}

// TestResamplerSeamless checks that chunking does not change the output.
func TestResamplerSeamless(t *testing.T) {
	in := sine(4800, 48000, 440, 12000)
	for _, p := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 8000}, {8000, 48000}, {44100, 48000}} {
		whole, _ := NewResampler(p[0], p[1])
		want := whole.Resample(nil, in)
		chunked, _ := NewResampler(p[0], p[1])
		var got, buf []int16
		for i, n := 0, 1; i < len(in); i, n = i+n, n%97+1 {
			buf = chunked.Resample(buf, in[i:min(i+n, len(in))])
			got = append(got, buf...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: chunked output differs (%d vs %d samples)", rateName(p[0], p[1]), len(got), len(want))
		}
	}
}

func TestResamplerErrors(t *testing.T) {
	for _, p := range [][2]int{{0, 8000}, {8000, -1}, {8000, 8011 * 7}} {
		if _, err := NewResampler(p[0], p[1]); !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewResampler(%d, %d) error %v", p[0], p[1], err)
		}
	}
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func rateName(from, to int) string {
	return itoa(from/1000) + "k-" + itoa(to/1000) + "k"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
