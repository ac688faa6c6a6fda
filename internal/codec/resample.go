package codec

import (
	"fmt"
	"math"
	"slices"
)

// Resampler converts slin between sample rates. It keeps filter history so
// consecutive calls join seamlessly; use one per stream. Resample writes
// into dst[:0] (reusing capacity) and returns it. The output length of a
// call is not always exactly len(src)*to/from for non-integer ratios, but
// over time it matches the ratio exactly.
type Resampler interface {
	Resample(dst, src []int16) []int16
}

// Filter design: a Kaiser windowed sinc with resamplerZeros zero crossings
// each side of the centre at the lower rate, cut off a little below that
// rate's Nyquist so that the transition band hardly aliases. For 8k<->16k
// this is a 97 tap filter at 16 kHz: flat (<0.1 dB) to about 3.3 kHz and
// more than 70 dB down above 4.1 kHz.
const (
	resamplerZeros  = 24
	resamplerBeta   = 7.5
	resamplerCutoff = 0.92 // fraction of the lower Nyquist frequency
	resamplerMaxLM  = 320  // bounds the table size for odd ratios
)

// NewResampler returns a polyphase FIR resampler from one rate to another.
// Any pair of rates with a reduced ratio up to 320 works (8000, 16000,
// 32000, 48000, 44100 ...). Equal rates give a copying Resampler. The
// group delay is resamplerZeros samples at the lower rate (3 ms at 8 kHz).
func NewResampler(from, to int) (Resampler, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("codec: resample %d to %d Hz: %w", from, to, ErrUnsupported)
	}
	if from == to {
		return copyResampler{}, nil
	}
	g := gcd(from, to)
	up, down := to/g, from/g
	if up > resamplerMaxLM || down > resamplerMaxLM {
		return nil, fmt.Errorf("codec: resample %d to %d Hz: ratio too complex: %w", from, to, ErrUnsupported)
	}
	return newPolyphase(up, down), nil
}

type copyResampler struct{}

func (copyResampler) Resample(dst, src []int16) []int16 {
	dst = grow(dst, len(src))
	copy(dst, src)
	return dst
}

// polyphase implements upsample by up, low-pass, downsample by down,
// computing only the needed outputs of the needed phases.
type polyphase struct {
	up, down int
	phases   [][]float32 // phases[p] = h[p], h[p+up], ... reversed, so oldest tap first
	hist     []float32   // the last histLen input samples, oldest first
	buf      []float32   // scratch: hist followed by the current input
	pos      int         // next output's position on the upsampled grid, relative to the current input
}

func newPolyphase(up, down int) *polyphase {
	factor := max(up, down)
	n := 2*resamplerZeros*factor + 1
	fc := resamplerCutoff * 0.5 / float64(factor) // cycles per upsampled sample
	centre := float64(n-1) / 2
	h := make([]float64, n)
	i0b := besselI0(resamplerBeta)
	for i := range h {
		x := float64(i) - centre
		var s float64
		if x == 0 {
			s = 2 * fc
		} else {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		r := x / centre
		w := besselI0(resamplerBeta*math.Sqrt(max(0, 1-r*r))) / i0b
		h[i] = s * w
	}
	// Normalise DC gain of each phase to exactly 1 so a constant input
	// yields a constant output without ripple.
	phases := make([][]float32, up)
	taps := (n + up - 1) / up
	for p := range phases {
		var sum float64
		for j := p; j < n; j += up {
			sum += h[j]
		}
		ph := make([]float32, 0, taps)
		for j := p; j < n; j += up {
			ph = append(ph, float32(h[j]/sum))
		}
		slices.Reverse(ph) // lets Resample run a forward dot product
		phases[p] = ph
	}
	return &polyphase{
		up: up, down: down,
		phases: phases,
		hist:   make([]float32, taps),
	}
}

func (r *polyphase) Resample(dst, src []int16) []int16 {
	dst = dst[:0]
	h := len(r.hist)
	if cap(r.buf) < h+len(src) {
		r.buf = make([]float32, h+len(src))
	}
	buf := r.buf[:h+len(src)]
	copy(buf, r.hist)
	for i, s := range src {
		buf[h+i] = float32(s)
	}
	limit := r.up * len(src)
	pos := r.pos
	for ; pos < limit; pos += r.down {
		i := pos / r.up
		ph := r.phases[pos-i*r.up]
		x := buf[h+i-len(ph)+1 : h+i+1] // newest sample last
		dst = append(dst, clamp16(dot(ph, x)))
	}
	r.pos = pos - limit
	copy(r.hist, buf[len(buf)-h:])
	return dst
}

// dot returns the dot product of a and b (len(b) >= len(a)), with four
// accumulators to break the floating point add dependency chain.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func clamp16(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

// besselI0 is the zeroth order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

var (
	_ Resampler = (*polyphase)(nil)
	_ Resampler = copyResampler{}
)
