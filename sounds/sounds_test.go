package sounds_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/sound"
	"github.com/gopbx/gopbx/sounds"
)

// promptNames lists the names in prompts.txt.
func promptNames(t *testing.T) []string {
	t.Helper()
	b, err := fs.ReadFile(sounds.FS(), "prompts.txt")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		name, text, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(text) == "" {
			t.Errorf("prompts.txt: malformed line %q", line)
			continue
		}
		names = append(names, name)
	}
	if len(names) < 100 {
		t.Fatalf("prompts.txt lists only %d prompts", len(names))
	}
	return names
}

// fmtChunk returns channels and sample rate from a WAV file's fmt chunk.
func fmtChunk(b []byte) (channels, rate int, err error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, errors.New("not RIFF WAVE")
	}
	for p := 12; p+8 <= len(b); {
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		if string(b[p:p+4]) == "fmt " && p+8+16 <= len(b) {
			c := b[p+8:]
			return int(binary.LittleEndian.Uint16(c[2:])), int(binary.LittleEndian.Uint32(c[4:])), nil
		}
		p += 8 + size + size&1
	}
	return 0, 0, errors.New("no fmt chunk")
}

// check opens a shipped file and returns its duration and RMS level.
func check(t *testing.T, path string) (time.Duration, float64) {
	t.Helper()
	b, err := fs.ReadFile(sounds.FS(), path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ch, rate, err := fmtChunk(b)
	if err != nil || ch != 1 || rate != 8000 {
		t.Errorf("%s: %d channels at %d Hz (%v), want mono 8000 Hz", path, ch, rate, err)
	}
	r, err := sound.OpenReader(path, bytes.NewReader(b), "wav")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, ok := r.Duration()
	if !ok || d <= 0 {
		t.Errorf("%s: empty (duration %v)", path, d)
	}
	var sum float64
	var n int
	var frame []int16
	for {
		frame, err = r.Read(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range frame {
			sum += float64(v) * float64(v)
		}
		n += len(frame)
	}
	return d, math.Sqrt(sum / float64(max(n, 1)))
}

func TestPrompts(t *testing.T) {
	for _, name := range promptNames(t) {
		d, level := check(t, "en/"+name+".wav")
		// Speech normalised to -3 dBFS peak has an RMS in the thousands;
		// 300 catches a silent or nearly silent file.
		if level < 300 {
			t.Errorf("%s: RMS %.0f, sounds silent", name, level)
		}
		if d > 90*time.Second {
			t.Errorf("%s: lasts %v", name, d)
		}
	}
	if d, _ := check(t, "en/hello-world.wav"); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("hello-world lasts %v, want 0.5–3 s", d)
	}
}

// TestNoStrayFiles keeps en/ in step with prompts.txt, so a renamed prompt
// does not leave its old file behind in the binary.
func TestNoStrayFiles(t *testing.T) {
	listed := map[string]bool{}
	for _, n := range promptNames(t) {
		listed["en/"+n+".wav"] = true
	}
	err := fs.WalkDir(sounds.FS(), "en", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !listed[p] {
			t.Errorf("%s is not listed in prompts.txt", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMusicOnHold(t *testing.T) {
	files, err := fs.Glob(sounds.FS(), "moh/default-*.wav")
	if err != nil || len(files) < 2 {
		t.Fatalf("music on hold files %v (%v), want at least 2", files, err)
	}
	for _, f := range files {
		d, level := check(t, f)
		if d < 20*time.Second || d > 31*time.Second {
			t.Errorf("%s lasts %v, want 20–30 s", f, d)
		}
		if level < 300 {
			t.Errorf("%s: RMS %.0f, sounds silent", f, level)
		}
	}
}

// TestFinder shows the embedded set works as a Finder's last resort.
func TestFinder(t *testing.T) {
	f := &sound.Finder{Embedded: sounds.FS()}
	for _, name := range []string{"vm-intro", "digits/7", "letters/q", "followme/options"} {
		r, err := f.Open(name, "en_US")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
}
