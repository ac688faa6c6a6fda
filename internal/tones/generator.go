package tones

import "math"

const (
	// SampleRate is the rate of generated audio, in Hz.
	SampleRate = 8000
	// FrameSamples is the number of samples in one 20 ms frame.
	FrameSamples = 160

	// DefaultVolume is the peak amplitude of each tone when none is given,
	// Asterisk's ast_playtones_start default (7219, about -10 dBm0 per tone;
	// a two-tone part is about -7 dBm0 in total).
	DefaultVolume = 7219
	// MilliwattVolume is the peak amplitude of a 0 dBm0 sine, the level
	// Asterisk's Milliwatt() passes to ast_playtones_start.
	MilliwattVolume = 23255
)

// digitalMilliwatt is G.711's digital milliwatt, the µ-law sequence
// 0x1e,0x0b,0x0b,0x1e,0x9e,0x8b,0x8b,0x9e (a 1000 Hz sine at 0 dBm0),
// decoded to linear so it is bit-exact with Asterisk's Milliwatt(o).
var digitalMilliwatt = [8]int16{-8828, -20860, -20860, -8828, 8828, 20860, 20860, 8828}

// Generator produces the audio of a tone list, one frame per Read. Use it
// from one goroutine.
type Generator struct {
	parts  []genPart
	repeat int // index to restart at; -1 to stop
	idx    int // current part
	pos    int // samples played of the current part
	vol    float64
	o1, o2 osc
	done   bool

	pattern []int16 // fixed sample sequence (digital milliwatt), instead of parts
}

type genPart struct {
	f1, f2   int
	modulate bool
	samples  int // 0: forever
}

// Generator returns a generator for l at DefaultVolume.
func (l List) Generator() *Generator { return l.GeneratorVolume(DefaultVolume) }

// GeneratorVolume returns a generator for l whose tones peak at vol
// (1..32767), like the vol argument of Asterisk's ast_playtones_start.
// Values out of range mean DefaultVolume.
func (l List) GeneratorVolume(vol int) *Generator {
	if vol < 1 || vol > math.MaxInt16 {
		vol = DefaultVolume
	}
	g := &Generator{repeat: l.RepeatFrom(), vol: float64(vol)}
	for _, p := range l.Parts {
		g.parts = append(g.parts, genPart{
			f1: p.Freq1, f2: p.Freq2, modulate: p.Modulate,
			samples: int(p.Duration.Milliseconds()) * SampleRate / 1000,
		})
	}
	if len(g.parts) == 0 {
		g.done = true
		return g
	}
	g.enter()
	return g
}

// Milliwatt returns the G.711 digital milliwatt: the 8-sample µ-law pattern
// of Asterisk's Milliwatt(o), a 1000 Hz sine at 0 dBm0, decoded to linear.
// Its output is identical to Asterisk's after µ-law encoding.
func Milliwatt() *Generator {
	return &Generator{pattern: digitalMilliwatt[:]}
}

// MilliwattTone returns what Asterisk's Milliwatt() plays by default since
// 1.6: a continuous 1004 Hz sine at 0 dBm0 (playtones "1004/1000" at
// volume 23255). 1004 Hz avoids the 8-sample pattern that hides codec and
// sampling faults from test equipment.
func MilliwattTone() *Generator {
	return MustParse("1004/1000").GeneratorVolume(MilliwattVolume)
}

// Done reports whether a list that plays once has ended. Lists with a
// repeated part, and the milliwatt, never end.
func (g *Generator) Done() bool { return g.done }

// Read returns the next FrameSamples samples, stored in dst when it has the
// capacity. The frame in which a play-once list ends is padded with
// silence; after that Read returns an empty slice and Done is true.
func (g *Generator) Read(dst []int16) []int16 {
	if g.done {
		return dst[:0]
	}
	if cap(dst) < FrameSamples {
		dst = make([]int16, FrameSamples)
	}
	dst = dst[:FrameSamples]
	if g.pattern != nil {
		for i := range dst {
			dst[i] = g.pattern[g.pos]
			g.pos = (g.pos + 1) % len(g.pattern)
		}
		return dst
	}
	for i := 0; i < len(dst); {
		p := &g.parts[g.idx]
		n := len(dst) - i
		if p.samples > 0 && p.samples-g.pos < n {
			n = p.samples - g.pos
		}
		g.render(dst[i:i+n], p)
		i += n
		g.pos += n
		if p.samples > 0 && g.pos >= p.samples {
			g.next()
			if g.done {
				clear(dst[i:])
				break
			}
		}
	}
	g.o1.normalize()
	g.o2.normalize()
	return dst
}

// next moves to the following part, wrapping to the repeat point.
func (g *Generator) next() {
	g.pos = 0
	g.idx++
	if g.idx >= len(g.parts) {
		if g.repeat < 0 {
			g.done = true
			return
		}
		g.idx = g.repeat
	}
	g.enter()
}

// enter retunes the oscillators for the current part without a phase jump.
func (g *Generator) enter() {
	p := &g.parts[g.idx]
	g.o1.tune(p.f1)
	g.o2.tune(p.f2)
}

func (g *Generator) render(dst []int16, p *genPart) {
	vol := g.vol
	for i := range dst {
		s1 := g.o1.step()
		s2 := g.o2.step()
		var v float64
		if p.modulate {
			// Asterisk's playtones_generator: f1 scaled by 0.9*(1 - f2/32768),
			// a shallow modulation at the default volume, deep at full scale.
			v = s1 * vol * (0.9*(32768-s2*vol) + 1) / 32768
		} else {
			v = (s1 + s2) * vol
		}
		dst[i] = clip(v)
	}
}

func clip(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}

// osc is a rotating phasor: cheaper than math.Sin per sample and
// phase-continuous when retuned.
type osc struct {
	freq   int
	c, s   float64 // cos and sin of the current phase
	rc, rs float64 // cos and sin of the phase step
}

func (o *osc) tune(freq int) {
	if freq == o.freq {
		return
	}
	if o.freq == 0 {
		// Start after silence at phase 0, as Asterisk does, so the tone
		// begins at a zero crossing instead of a step.
		o.c, o.s = 1, 0
	}
	o.freq = freq
	w := 2 * math.Pi * float64(freq) / SampleRate
	o.rc, o.rs = math.Cos(w), math.Sin(w)
}

// step returns sin of the current phase and advances it; 0 when silent.
func (o *osc) step() float64 {
	if o.freq == 0 {
		return 0
	}
	v := o.s
	o.c, o.s = o.c*o.rc-o.s*o.rs, o.s*o.rc+o.c*o.rs
	return v
}

// normalize undoes the rounding drift of the phasor's length, once a frame.
func (o *osc) normalize() {
	if o.freq == 0 {
		return
	}
	m := 1 / math.Sqrt(o.c*o.c+o.s*o.s)
	o.c *= m
	o.s *= m
}
