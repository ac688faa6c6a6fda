package dtmf

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/tones"
)

// ITU-T Q.23 frequencies: a digit is one row (low group) tone plus one
// column (high group) tone.
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad lays the digits out by [row][column].
const keypad = "123A456B789C*0#D"

// Tone returns the Q.23 frequencies of digit, low group first, or 0, 0 for
// a byte that is not a keypad digit (Flash has no tone).
func Tone(digit byte) (f1, f2 int) {
	i := strings.IndexByte(keypad, normalize(digit))
	if i < 0 {
		return 0, 0
	}
	return int(rowFreqs[i/4]), int(colFreqs[i%4])
}

// Generator plays digits in band, as Asterisk's SendDTMF does on a channel
// without RFC 4733: each digit's two tones for the on time, then silence
// for the gap.
type Generator struct {
	g *tones.Generator
}

// NewGenerator returns a Generator for digits, each lasting on
// (DefaultDuration if <= 0) and followed by gap of silence. Each tone peaks
// at tones.DefaultVolume, Asterisk's level (about -10 dBm0 per tone).
func NewGenerator(digits string, on, gap time.Duration) (*Generator, error) {
	if digits == "" {
		return nil, fmt.Errorf("%w: no digits given", ErrDigit)
	}
	if on <= 0 {
		on = DefaultDuration
	}
	var l tones.List
	for i := range len(digits) {
		f1, f2 := Tone(digits[i])
		if f1 == 0 {
			return nil, fmt.Errorf("dtmf: %w: %q in %q", ErrDigit, digits[i], digits)
		}
		l.Parts = append(l.Parts, tones.Part{Freq1: f1, Freq2: f2, Duration: on, Once: true})
		if gap > 0 {
			l.Parts = append(l.Parts, tones.Part{Duration: gap, Once: true})
		}
	}
	return &Generator{g: l.Generator()}, nil
}

// Read returns the next 20 ms frame (tones.FrameSamples samples), stored in
// dst when it has the capacity, or an empty slice once every digit has been
// played.
func (g *Generator) Read(dst []int16) []int16 { return g.g.Read(dst) }

// Done reports whether every digit and gap has been played.
func (g *Generator) Done() bool { return g.g.Done() }

// Detector thresholds, from Asterisk's main/dsp.c (itself from spandsp).
// Powers are Goertzel outputs over blockSize samples.
const (
	blockSize = 102 // 12.75 ms: tuned to the Q.24 frequency tolerances

	// minPower is the least power of each tone, about -42 dBm0.
	minPower = 8.0e7
	// normalTwist and reverseTwist bound the power ratio of the two tones:
	// the low group may be up to 8 dB stronger than the high group, the high
	// group up to 4 dB stronger than the low (the AT&T limits).
	normalTwist  = 6.31
	reverseTwist = 2.51
	// relativePeak: every other tone of a group must be 8 dB weaker than
	// the strongest, which rejects broadband sounds and chords.
	relativePeak = 6.3
	// toTotalEnergy: the two tones must hold most of the block's energy
	// (a pure pair gives blockSize/2 = 51). Harmonics, speech formants and
	// noise all fail it, so no separate second-harmonic filters are needed.
	toTotalEnergy = 42.0

	// hitsToBegin blocks in a row (25.5 ms) start a digit; missesToEnd end
	// it. ETSI ES 201 235-3 wants ≥ 40 ms accepted, < 20 ms rejected.
	hitsToBegin = 2
	missesToEnd = 3
)

// Detector finds DTMF digits in 8000 Hz audio with Goertzel filters over
// 102-sample blocks, as Asterisk and spandsp do. A digit is reported once
// per key press, when it has lasted two blocks.
type Detector struct {
	rowCoef, colCoef [4]float64
	row, col         [4]goertzel
	energy           float64
	n                int // samples in the current block

	lastHit byte // result of the previous block
	hits    int  // blocks in a row with lastHit
	current byte // digit being pressed, 0 if none
	misses  int  // blocks in a row without current
}

type goertzel struct{ s1, s2 float64 }

// NewDetector returns a Detector for 8000 Hz linear audio.
func NewDetector() *Detector {
	d := &Detector{}
	for i := range 4 {
		d.rowCoef[i] = 2 * math.Cos(2*math.Pi*rowFreqs[i]/tones.SampleRate)
		d.colCoef[i] = 2 * math.Cos(2*math.Pi*colFreqs[i]/tones.SampleRate)
	}
	return d
}

// Feed processes frame, of any length, and returns the digits whose key
// press began in it (usually none).
func (d *Detector) Feed(frame []int16) []byte {
	var out []byte
	for _, v := range frame {
		x := float64(v)
		d.energy += x * x
		for i := range 4 {
			r := &d.row[i]
			r.s1, r.s2 = x+d.rowCoef[i]*r.s1-r.s2, r.s1
			c := &d.col[i]
			c.s1, c.s2 = x+d.colCoef[i]*c.s1-c.s2, c.s1
		}
		d.n++
		if d.n == blockSize {
			if digit := d.endBlock(); digit != 0 {
				out = append(out, digit)
			}
		}
	}
	return out
}

// endBlock classifies the finished block, runs the hit/miss debouncing of
// dsp.c and returns a digit that just began.
func (d *Detector) endBlock() byte {
	var rowP, colP [4]float64
	br, bc := 0, 0
	for i := range 4 {
		rowP[i] = power(d.row[i], d.rowCoef[i])
		colP[i] = power(d.col[i], d.colCoef[i])
		if rowP[i] > rowP[br] {
			br = i
		}
		if colP[i] > colP[bc] {
			bc = i
		}
	}
	hit := classify(rowP, colP, br, bc, d.energy)

	d.row, d.col = [4]goertzel{}, [4]goertzel{}
	d.energy, d.n = 0, 0

	if d.current != 0 {
		if hit != d.current {
			d.misses++
			if d.misses == missesToEnd {
				d.current = 0
			}
		} else {
			d.misses = 0
		}
	}
	// A new digit may begin before the last one has ended (hits to begin <
	// misses to end), so look for one regardless.
	if hit != d.lastHit {
		d.lastHit, d.hits = hit, 0
	}
	if hit != 0 && hit != d.current {
		d.hits++
		if d.hits == hitsToBegin {
			d.current, d.misses = hit, 0
			return hit
		}
	}
	return 0
}

func classify(rowP, colP [4]float64, br, bc int, energy float64) byte {
	r, c := rowP[br], colP[bc]
	if r < minPower || c < minPower || c >= r*reverseTwist || r >= c*normalTwist {
		return 0
	}
	for i := range 4 {
		if (i != bc && colP[i]*relativePeak > c) || (i != br && rowP[i]*relativePeak > r) {
			return 0
		}
	}
	if r+c <= toTotalEnergy*energy {
		return 0
	}
	return keypad[br*4+bc]
}

func power(g goertzel, coef float64) float64 {
	return g.s1*g.s1 + g.s2*g.s2 - coef*g.s1*g.s2
}
