package sound

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gopbx/gopbx/internal/codec"
)

// writeSln writes a raw 8 kHz file of n samples whose value tags it, so a
// test can tell which file a Finder opened.
func writeSln(t *testing.T, path string, tag int16) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 0, 2*FrameSamples)
	for range FrameSamples {
		b = append(b, byte(tag), byte(uint16(tag)>>8))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstSample(t *testing.T, r *Reader) int16 {
	t.Helper()
	defer r.Close()
	f, err := r.Read(nil)
	if err != nil {
		t.Fatal(err)
	}
	return f[0]
}

func TestFinderOrder(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	// tag values say which file was found.
	writeSln(t, filepath.Join(d1, "en", "both.sln"), 1)
	writeSln(t, filepath.Join(d1, "both.sln"), 2)
	writeSln(t, filepath.Join(d2, "en", "both.sln"), 3)
	writeSln(t, filepath.Join(d1, "nolang.sln"), 4)
	writeSln(t, filepath.Join(d2, "en", "second.sln"), 5)
	writeSln(t, filepath.Join(d1, "en_GB", "dialect.sln"), 6)
	writeSln(t, filepath.Join(d1, "en", "dialect.sln"), 7)
	writeSln(t, filepath.Join(d1, "fr", "fallback.sln"), 8)
	writeSln(t, filepath.Join(d1, "en", "fallback.sln"), 9)
	writeSln(t, filepath.Join(d1, "digits", "7.sln"), 10)
	writeSln(t, filepath.Join(d1, "en", "pref.sln"), 11)
	writeSln(t, filepath.Join(d1, "en", "pref.sln16"), 12) // 16 kHz is preferred
	writeSln(t, filepath.Join(d1, "en", "pref.ulaw"), 13)
	writeSln(t, filepath.Join(d1, "en", "lower.ulaw"), 0x7f7f) // ulaw 0x7f = 0
	writeSln(t, filepath.Join(d1, "en", "lower.alaw"), 14)

	f := &Finder{
		Dirs: []string{d1, d2},
		Embedded: fstest.MapFS{
			"en/embedded.sln": {Data: slnBytes(15)},
			"en/both.sln":     {Data: slnBytes(16)},
			"moh/default.sln": {Data: slnBytes(17)},
		},
	}
	tests := []struct {
		name, lang string
		want       int16
		file       string // suffix of Reader.Name
	}{
		{"both", "en", 1, "/en/both.sln"},     // <dir>/<lang> before <dir>
		{"both", "", 2, "/both.sln"},          // no language: bare name first…
		{"nolang", "en", 4, "/nolang.sln"},    // <dir>/<name> when no <lang> copy
		{"second", "en", 5, "/en/second.sln"}, // later directory
		{"dialect", "en_GB", 6, "/en_GB/dialect.sln"},
		{"dialect", "en_US", 7, "/en/dialect.sln"}, // dialect falls back to base language
		{"fallback", "fr", 8, "/fr/fallback.sln"},
		{"fallback", "de", 9, "/en/fallback.sln"}, // default language last
		{"digits/7", "en", 10, "/digits/7.sln"},
		{"embedded", "en", 15, "embedded:en/embedded.sln"},
		{"moh/default", "en", 17, "embedded:moh/default.sln"},
		{"pref.ulaw", "en", 0, "/en/pref.ulaw"}, // extension given: taken as is
		{"lower", "en", 0, "/en/lower.ulaw"},    // ulaw before alaw
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.lang, func(t *testing.T) {
			r, err := f.Open(tt.name, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(r.Name(), tt.file) {
				t.Errorf("opened %s, want …%s", r.Name(), tt.file)
			}
			if tt.name == "pref.ulaw" {
				r.Close()
				return
			}
			if got := firstSample(t, r); got != tt.want && tt.want != 0 {
				t.Errorf("first sample %d, want %d", got, tt.want)
			}
		})
	}

	// sln16 is preferred to sln: the file name shows the choice.
	r, err := f.Open("pref", "en")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !strings.HasSuffix(r.Name(), "/en/pref.sln16") {
		t.Errorf("pref opened %s, want the .sln16", r.Name())
	}
}

func slnBytes(tag int16) []byte {
	b := make([]byte, 0, 2*FrameSamples)
	for range FrameSamples {
		b = append(b, byte(tag), byte(uint16(tag)>>8))
	}
	return b
}

func TestFinderAbsolute(t *testing.T) {
	d := t.TempDir()
	writeSln(t, filepath.Join(d, "custom", "foo.sln"), 1)
	writeSln(t, filepath.Join(d, "custom", "fr", "foo.sln"), 2)
	f := &Finder{} // absolute names need no Dirs
	if got := firstSample(t, must(f.Open(filepath.Join(d, "custom", "foo"), "en"))); got != 1 {
		t.Errorf("en: got tag %d, want 1", got)
	}
	if got := firstSample(t, must(f.Open(filepath.Join(d, "custom", "foo"), "fr"))); got != 2 {
		t.Errorf("fr: got tag %d, want 2", got)
	}
	if got := firstSample(t, must(f.Open(filepath.Join(d, "custom", "foo.sln"), ""))); got != 1 {
		t.Errorf("with extension: got tag %d, want 1", got)
	}
}

func must(r *Reader, err error) *Reader {
	if err != nil {
		panic(err)
	}
	return r
}

func TestFinderNotFound(t *testing.T) {
	d := t.TempDir()
	if err := os.Mkdir(filepath.Join(d, "adir.wav"), 0o755); err != nil { // a directory is not a sound
		t.Fatal(err)
	}
	f := &Finder{Dirs: []string{d}, Embedded: fstest.MapFS{}}
	for _, name := range []string{"no-such-prompt", "adir", "../../etc/passwd", "/nonexistent/x"} {
		_, err := f.Open(name, "en")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v, want fs.ErrNotExist", name, err)
			continue
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
	if _, err := f.Open("no-such-prompt", "en"); err == nil || !strings.Contains(err.Error(), d) {
		t.Errorf("error %v does not say where it looked (%s)", err, d)
	}
}

// TestFinderDamaged: a prompt that exists but is not audio is an error, not
// a reason to fall through to another file.
func TestFinderDamaged(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "bad.wav"), []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSln(t, filepath.Join(d, "bad.sln"), 1)
	_, err := (&Finder{Dirs: []string{d}}).Open("bad", "")
	if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "bad.wav") {
		t.Errorf("Open(bad) = %v, want a parse error naming bad.wav", err)
	}
}

func TestSilence(t *testing.T) {
	f := &Finder{}
	r, err := f.Open("silence/3", "en")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if d, ok := r.Duration(); !ok || d != 3*time.Second {
		t.Errorf("Duration = %v, %v; want 3s", d, ok)
	}
	got := readAll(t, r)
	if len(got) != 3*SampleRate {
		t.Errorf("%d samples, want %d", len(got), 3*SampleRate)
	}
	if v := rms(got); v != 0 {
		t.Errorf("RMS %v, want 0", v)
	}
	if _, err := f.Open("silence/x", "en"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("silence/x = %v, want not found", err)
	}
}

// TestReadRawSox reads Asterisk's raw formats as written by sox.
func TestReadRawSox(t *testing.T) {
	sox := needSox(t)
	tests := []struct {
		ext   string
		args  []string
		codec string
	}{
		{"sln", []string{"-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16"}, ""},
		{"sln16", []string{"-t", "raw", "-r", "16000", "-e", "signed-integer", "-b", "16"}, ""},
		{"ulaw", []string{"-t", "raw", "-r", "8000", "-e", "u-law"}, ""},
		{"alaw", []string{"-t", "raw", "-r", "8000", "-e", "a-law"}, ""},
		{"gsm", []string{"-t", "gsm", "-r", "8000"}, "gsm"},
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			if tt.codec != "" {
				needCodec(t, tt.codec)
			}
			d := t.TempDir()
			p := filepath.Join(d, "tone."+tt.ext)
			args := append([]string{"-V1", "-n", "-c", "1"}, tt.args...)
			args = append(args, p, "synth", "1", "sine", "1000", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox %v: %v\n%s", args, err, out)
			}
			r, err := (&Finder{Dirs: []string{d}}).Open("tone", "")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if d, ok := r.Duration(); !ok || d != time.Second {
				t.Errorf("Duration = %v, %v; want 1s", d, ok)
			}
			got := readAll(t, r)
			if zc := zeroCrossings(got[400:7600]); zc < 1780 || zc > 1820 {
				t.Errorf("%d zero crossings in 0.9 s, want about 1800 (1 kHz)", zc)
			}
			if v := rms(got[400:7600]); v < 8000 || v > 13000 {
				t.Errorf("RMS %.0f, want about 11585", v)
			}
		})
	}
}

// TestReadG722 reads a .g722 file made with the codec package's encoder.
func TestReadG722(t *testing.T) {
	needCodec(t, "g722")
	c, _ := codec.Lookup("g722")
	enc, err := c.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 16000) // 1 s of 1 kHz at 16 kHz
	for i := range pcm {
		pcm[i] = int16(12000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	payload, err := enc.Encode(nil, pcm)
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "tone.g722"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := (&Finder{Dirs: []string{d}}).Open("tone", "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if d, ok := r.Duration(); !ok || d != time.Second {
		t.Errorf("Duration = %v, %v; want 1s", d, ok)
	}
	got := readAll(t, r)
	if zc := zeroCrossings(got[400:7600]); zc < 1780 || zc > 1820 {
		t.Errorf("%d zero crossings in 0.9 s, want about 1800 (1 kHz)", zc)
	}
	if v := rms(got[400:7600]); v < 6000 || v > 10000 {
		t.Errorf("RMS %.0f, want about 8485", v)
	}
}
