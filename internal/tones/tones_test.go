package tones

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goertzel returns the power of x at freq divided by len(x)², so a sine of
// amplitude A at freq gives about A²/4 whatever the block length.
func goertzel(x []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(x))
	return p / (n * n)
}

// amplitude estimates the amplitude of the sine at freq in x.
func amplitude(x []int16, freq float64) float64 { return 2 * math.Sqrt(goertzel(x, freq)) }

func rms(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// play reads n frames from g and returns them joined.
func play(t *testing.T, g *Generator, n int) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, FrameSamples)
	for range n {
		f := g.Read(buf)
		if len(f) == 0 {
			break
		}
		if len(f) != FrameSamples {
			t.Fatalf("frame of %d samples, want %d", len(f), FrameSamples)
		}
		out = append(out, f...)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []Part
		rep  int
	}{
		{"350+440", []Part{{Freq1: 350, Freq2: 440}}, 0},
		{"480+620/500,0/500", []Part{{Freq1: 480, Freq2: 620, Duration: 500 * time.Millisecond}, {Duration: 500 * time.Millisecond}}, 0},
		{"!950/330,!1400/330,!1800/330,0", []Part{
			{Freq1: 950, Duration: 330 * time.Millisecond, Once: true},
			{Freq1: 1400, Duration: 330 * time.Millisecond, Once: true},
			{Freq1: 1800, Duration: 330 * time.Millisecond, Once: true},
			{},
		}, 3},
		{"425*25", []Part{{Freq1: 425, Freq2: 25, Modulate: true}}, 0},
		{"440*25/100", []Part{{Freq1: 440, Freq2: 25, Modulate: true, Duration: 100 * time.Millisecond}}, 0},
		{"M69", []Part{{Freq1: 440}}, 0},
		{"M60+M64/250", []Part{{Freq1: 261, Freq2: 329, Duration: 250 * time.Millisecond}}, 0},
		{"M69*M10", []Part{{Freq1: 440, Freq2: 14, Modulate: true}}, 0},
		{"!M69/100", []Part{{Freq1: 440, Duration: 100 * time.Millisecond, Once: true}}, -1},
		{" 440/100 | !0/50 ", []Part{{Freq1: 440, Duration: 100 * time.Millisecond}, {Duration: 50 * time.Millisecond, Once: true}}, 0},
		{"440,", []Part{{Freq1: 440}}, 0},
		{"!440/100,!0/100", []Part{{Freq1: 440, Duration: 100 * time.Millisecond, Once: true}, {Duration: 100 * time.Millisecond, Once: true}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Parts) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", l.Parts, tt.want)
			}
			for i := range l.Parts {
				if l.Parts[i] != tt.want[i] {
					t.Errorf("part %d: got %+v, want %+v", i, l.Parts[i], tt.want[i])
				}
			}
			if got := l.RepeatFrom(); got != tt.rep {
				t.Errorf("RepeatFrom = %d, want %d", got, tt.rep)
			}
			again, err := Parse(l.String())
			if err != nil || again.String() != l.String() {
				t.Errorf("String round trip: %q -> %q, %v", l.String(), again.String(), err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "no tone parts"},
		{"abc", `part 1 "abc"`},
		{"350+440/abc", "duration"},
		{"350 + 440", "not a number"},
		{"350+M64", "not a number"},
		{"M60+64", "both tones must be MIDI"},
		{"M128", "out of range"},
		{"440,,0/100", `part 2 ""`},
		{"-5", "not a number"},
		{"!", "not a number"},
		{"99999999999", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want ErrSyntax containing %q", err, tt.want)
			}
		})
	}
}

func TestDialToneSpectrum(t *testing.T) {
	x := play(t, MustParse("350+440").Generator(), 50) // 1 s
	for _, f := range []float64{350, 440} {
		if a := amplitude(x, f); math.Abs(a-DefaultVolume) > DefaultVolume*0.02 {
			t.Errorf("amplitude at %v Hz = %.0f, want %d", f, a, DefaultVolume)
		}
	}
	for _, f := range []float64{100, 300, 395, 480, 620, 700, 880, 1000, 2000, 3500} {
		if a := amplitude(x, f); a > DefaultVolume/300 { // > 50 dB down
			t.Errorf("amplitude at %v Hz = %.1f, want none", f, a)
		}
	}
	// Each tone is about -10 dBm0 (0 dBm0 is a 3.14 dB crest below full scale).
	perTone := 20 * math.Log10(DefaultVolume/math.Sqrt2/(32768/math.Pow(10, 3.14/20)/math.Sqrt2))
	if perTone < -11 || perTone > -9 {
		t.Errorf("per-tone level %.1f dBm0", perTone)
	}
}

// TestBusyCadence checks 500 ms on, 500 ms off, repeated, to the sample.
func TestBusyCadence(t *testing.T) {
	x := play(t, MustParse("480+620/500,0/500").Generator(), 150) // 3 s
	const half = 4000
	for period := range 3 {
		on := x[period*2*half : period*2*half+half]
		off := x[period*2*half+half : (period+1)*2*half]
		if r := rms(on); r < 6000 || r > 8000 {
			t.Errorf("period %d: on rms %.0f", period, r)
		}
		if r := rms(off); r != 0 {
			t.Errorf("period %d: off rms %.0f, want silence", period, r)
		}
		if a := amplitude(on, 620); a < 7000 {
			t.Errorf("period %d: 620 Hz amplitude %.0f", period, a)
		}
	}
	// The tone starts at a zero crossing after silence.
	if x[0] != 0 || x[2*half] != 0 {
		t.Errorf("tone starts at %d and %d, want 0", x[0], x[2*half])
	}
}

func TestOnceParts(t *testing.T) {
	t.Run("prefix then repeat", func(t *testing.T) {
		// US info tone: three 330 ms tones once, then silence forever.
		g := MustParse("!950/330,!1400/330,!1800/330,0").Generator()
		x := play(t, g, 100)
		if len(x) != 100*FrameSamples || g.Done() {
			t.Fatalf("len %d, done %v; want endless", len(x), g.Done())
		}
		seg := func(i int) []int16 { return x[i*2640 : (i+1)*2640] }
		for i, f := range []float64{950, 1400, 1800} {
			if a := amplitude(seg(i), f); a < 7000 {
				t.Errorf("segment %d: %v Hz amplitude %.0f", i, f, a)
			}
		}
		if r := rms(x[3*2640:]); r != 0 {
			t.Errorf("after the tones rms %.0f, want silence", r)
		}
	})
	t.Run("repeat skips the once parts", func(t *testing.T) {
		x := play(t, MustParse("!440/100,1000/100,0/100").Generator(), 50)
		// 0-100 ms 440, then 1000/0 alternating every 100 ms.
		if a := amplitude(x[:800], 440); a < 7000 {
			t.Errorf("440 Hz amplitude %.0f", a)
		}
		for _, start := range []int{800, 2400, 4000} {
			if a := amplitude(x[start:start+800], 1000); a < 7000 {
				t.Errorf("1000 Hz at %d: amplitude %.0f", start, a)
			}
			if r := rms(x[start+800 : start+1600]); r != 0 {
				t.Errorf("gap at %d: rms %.0f", start+800, r)
			}
		}
	})
	t.Run("all once ends", func(t *testing.T) {
		g := MustParse("!697+1209/100,!0/50").Generator()
		x := play(t, g, 100)
		if !g.Done() {
			t.Fatal("not done")
		}
		// 150 ms = 7.5 frames: the 8th frame is padded with silence.
		if len(x) != 8*FrameSamples {
			t.Errorf("played %d samples, want %d", len(x), 8*FrameSamples)
		}
		if f := g.Read(nil); len(f) != 0 {
			t.Errorf("Read after done returned %d samples", len(f))
		}
	})
}

func TestModulation(t *testing.T) {
	// UK-style 400*25: a 400 Hz carrier with 25 Hz sidebands.
	x := play(t, MustParse("400*25").Generator(), 50)
	carrier := amplitude(x, 400)
	if carrier < 5000 || carrier > 7000 { // 0.9 * 7219
		t.Errorf("carrier amplitude %.0f", carrier)
	}
	for _, f := range []float64{375, 425} {
		a := amplitude(x, f)
		// Asterisk's depth at the default volume: 7219/32768 → sidebands
		// at about 11% of the carrier.
		if r := a / carrier; r < 0.08 || r > 0.14 {
			t.Errorf("sideband %v Hz: %.0f (%.3f of carrier)", f, a, r)
		}
	}
	if a := amplitude(x, 25); a > 50 {
		t.Errorf("modulating tone itself present: %.0f", a)
	}
}

// TestContinuity checks that frame boundaries are invisible: the largest
// step between neighbouring samples at a boundary is no larger than inside
// frames.
func TestContinuity(t *testing.T) {
	for _, s := range []string{"350+440", "425", "400*25", "1004/1000", "440/37,440/53,480/11"} {
		t.Run(s, func(t *testing.T) {
			x := play(t, MustParse(s).Generator(), 500)
			var inside, boundary float64
			for i := 1; i < len(x); i++ {
				d := math.Abs(float64(x[i]) - float64(x[i-1]))
				if i%FrameSamples == 0 {
					boundary = max(boundary, d)
				} else {
					inside = max(inside, d)
				}
			}
			if boundary > inside*1.01+1 {
				t.Errorf("step %.0f at a frame boundary, %.0f inside frames", boundary, inside)
			}
			// The phasor must not drift in amplitude over 10 s.
			tail := x[len(x)-8000:]
			head := x[:8000]
			if r := rms(tail) / rms(head); math.Abs(r-1) > 0.001 {
				t.Errorf("level drifted by %.4f", r)
			}
		})
	}
}

func TestMilliwatt(t *testing.T) {
	// Decode the µ-law pattern of app_milliwatt.c to check the table.
	for i, b := range []byte{0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e} {
		if got := ulaw(b); got != digitalMilliwatt[i] {
			t.Errorf("pattern[%d] = %d, µ-law 0x%02x decodes to %d", i, digitalMilliwatt[i], b, got)
		}
	}
	x := play(t, Milliwatt(), 50)
	for i, v := range x {
		if v != digitalMilliwatt[i%8] {
			t.Fatalf("sample %d = %d", i, v)
		}
	}
	if a := amplitude(x, 1000); a < 22000 || a > 23500 {
		t.Errorf("1000 Hz amplitude %.0f, want about 22700 (0 dBm0)", a)
	}

	y := play(t, MilliwattTone(), 50)
	if a := amplitude(y, 1004); math.Abs(a-MilliwattVolume) > 100 {
		t.Errorf("1004 Hz amplitude %.0f, want %d", a, MilliwattVolume)
	}
}

// ulaw is G.711 µ-law decoding, for checking the table.
func ulaw(b byte) int16 {
	u := ^b
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func TestReadReusesBuffer(t *testing.T) {
	g := MustParse("440").Generator()
	buf := make([]int16, 0, 320)
	f := g.Read(buf)
	if &f[0] != &buf[:1][0] {
		t.Error("Read did not use dst")
	}
	if allocs := testing.AllocsPerRun(100, func() { g.Read(buf) }); allocs != 0 {
		t.Errorf("%v allocations per Read", allocs)
	}
}

func TestDefaults(t *testing.T) {
	zs := Defaults()
	if zs.Default() == nil || zs.Default().Country() != "us" {
		t.Fatalf("default zone %v", zs.Default())
	}
	names := []string{"dial", "busy", "ring", "congestion", "callwaiting", "dialrecall", "record", "info", "stutter"}
	for _, c := range []string{"us", "uk", "de", "fr", "cn", "jp", "au", "it", "nl", "se"} {
		z := zs.Get(c)
		if z == nil {
			t.Errorf("no zone %s", c)
			continue
		}
		if z.Description() == "" || len(z.RingCadence()) == 0 {
			t.Errorf("%s: description %q, ringcadence %v", c, z.Description(), z.RingCadence())
		}
		var have int
		for i, n := range names {
			_, ok := z.Tone(n)
			if !ok && i < 4 {
				t.Errorf("%s: no %s tone", c, n)
			}
			if ok {
				have++
			}
		}
		// The sample leaves a few out (uk has no dialrecall, fr no callwaiting).
		if have < len(names)-2 {
			t.Errorf("%s: only %d of the standard tones", c, have)
		}
	}
	// Every built-in tone parses (Defaults would drop it otherwise).
	var total int
	for _, bz := range builtinZones {
		for _, tn := range bz.tones {
			total++
			if _, err := Parse(tn[1]); err != nil {
				t.Errorf("%s %s: %v", bz.country, tn[0], err)
			}
		}
		if zs.Get(bz.country) == nil {
			t.Errorf("zone %s dropped", bz.country)
		}
	}
	if total < 300 {
		t.Errorf("only %d built-in tones", total)
	}
	if v, ok := zs.Tone("UK", "Busy"); !ok || v != "400/375,0/375" {
		t.Errorf("uk busy = %q, %v", v, ok)
	}
	if v, _ := zs.Tone("", "dial"); v != "350+440" {
		t.Errorf("default dial = %q", v)
	}
	if v, _ := zs.Tone("xx", "dial"); v != "350+440" {
		t.Errorf("unknown zone dial = %q, want the default zone's", v)
	}
	if zs.Get("xx") != nil {
		t.Error("Get(unknown) != nil")
	}
	if l, ok := zs.Get("us").List("busy"); !ok || len(l.Parts) != 2 {
		t.Errorf("List(busy) = %v, %v", l, ok)
	}
	if got := zs.Get("us").RingCadence(); len(got) != 2 || got[0] != 2*time.Second || got[1] != 4*time.Second {
		t.Errorf("us ringcadence %v", got)
	}
}

func TestLoadConf(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "indications.conf")
	conf := `[general]
country=xx

[us]
description = United States
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000

[xx]
description = Test
ringcadence = 1000,bogus,3000
dial = 425
busy = 425/abc,0/500
beep = !M69/100

[empty]
description = no tones here
`
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	zs, diags, err := LoadConf(path)
	if err != nil {
		t.Fatal(err)
	}
	wantDiags := []string{
		path + ":13: invalid ringcadence value \"bogus\"",
		path + ":15: [xx] busy: tones: bad tone list: part 1 \"425/abc\"",
		path + ":18: zone [empty] needs a description and at least one valid tone",
	}
	if len(diags) != len(wantDiags) {
		t.Errorf("got %d diags, want %d: %v", len(diags), len(wantDiags), diags)
	}
	for i, d := range diags {
		if i < len(wantDiags) && !strings.HasPrefix(d.Error(), wantDiags[i]) {
			t.Errorf("diag %d = %q, want prefix %q", i, d.Error(), wantDiags[i])
		}
	}
	if got := zs.Default().Country(); got != "xx" {
		t.Errorf("default %s, want xx", got)
	}
	xx := zs.Get("XX")
	if _, ok := xx.Tone("busy"); ok {
		t.Error("bad busy tone kept")
	}
	if v, ok := xx.Tone("beep"); !ok || v != "!M69/100" {
		t.Errorf("beep = %q, %v", v, ok)
	}
	if got := xx.RingCadence(); len(got) != 2 {
		t.Errorf("ringcadence %v", got)
	}
	if got := strings.Join(zs.Countries(), ","); got != "us,xx" {
		t.Errorf("countries %s", got)
	}

	t.Run("missing file", func(t *testing.T) {
		_, _, err := LoadConf(filepath.Join(dir, "nope.conf"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err %v, want ErrNotExist", err)
		}
	})
	t.Run("default falls back to first", func(t *testing.T) {
		zs, diags, err := ParseConf("i.conf", []byte("[fr]\ndescription=France\ndial=440\n[de]\ndescription=Germany\ndial=425\n"))
		if err != nil {
			t.Fatal(err)
		}
		if zs.Default().Country() != "fr" {
			t.Errorf("default %s", zs.Default().Country())
		}
		if len(diags) != 1 || !strings.Contains(diags[0].Error(), "no default country") {
			t.Errorf("diags %v", diags)
		}
	})
	t.Run("redefined zone merges", func(t *testing.T) {
		zs, diags, err := ParseConf("i.conf", []byte("[general]\ncountry=fr\n[fr]\ndescription=France\ndial=440\nbusy=440/500,0/500\n[fr]\ndial=330\n"))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := zs.Tone("fr", "dial"); v != "330" {
			t.Errorf("dial %q", v)
		}
		if v, _ := zs.Tone("fr", "busy"); v != "440/500,0/500" {
			t.Errorf("busy %q", v)
		}
		if len(diags) != 1 || !strings.HasPrefix(diags[0].Error(), "i.conf:7: zone [fr] defined again") {
			t.Errorf("diags %v", diags)
		}
	})
}

// TestZonesConcurrent reads one Zones from many goroutines (run with -race).
func TestZonesConcurrent(t *testing.T) {
	zs := Defaults()
	done := make(chan bool)
	for range 4 {
		go func() {
			for _, c := range zs.Countries() {
				if l, ok := zs.Get(c).List("busy"); ok {
					l.Generator().Read(nil)
				}
				zs.Tone(c, "dial")
				zs.Get(c).RingCadence()
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}

func BenchmarkGenerator(b *testing.B) {
	g := MustParse("350+440").Generator()
	buf := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		g.Read(buf)
	}
}
