package tones

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{"350+440", "!950/330,!1400/330,!1800/330,0", "425*25/100|0/50", "M60+M64/10", "440,,1", "M128"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(l.String())
		if err != nil || again.String() != l.String() {
			t.Fatalf("%q: String %q does not round-trip: %v", s, l.String(), err)
		}
		if total(l) < 1<<20 { // skip lists that would take long to play
			g := l.Generator()
			buf := make([]int16, FrameSamples)
			for range 3 {
				g.Read(buf)
			}
		}
	})
}

func total(l List) int64 {
	var n int64
	for _, p := range l.Parts {
		n += p.Duration.Milliseconds()
	}
	return n
}
