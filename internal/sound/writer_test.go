package sound

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip writes a tone in each recordable format and reads it back.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		ext    string
		codec  string  // required codec, if any
		minSNR float64 // dB; +Inf means bit exact
		delay  int     // codec delay in samples to align before comparing
	}{
		{ext: "wav", minSNR: math.Inf(1)},
		{ext: "sln", minSNR: math.Inf(1)},
		{ext: "raw", minSNR: math.Inf(1)},
		{ext: "ulaw", minSNR: 30},
		{ext: "pcm", minSNR: 30},
		{ext: "alaw", minSNR: 30},
		{ext: "gsm", codec: "gsm", minSNR: 5},
	}
	// 1.03 s: not a whole number of frames, so padding is exercised.
	want := sine(8240, 440, 8000)
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			if tt.codec != "" {
				needCodec(t, tt.codec)
			}
			p := filepath.Join(t.TempDir(), "rt."+tt.ext)
			w, err := Create(p)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(want); i += FrameSamples {
				if err := w.Write(want[i:min(i+FrameSamples, len(want))]); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.Duration(); got != 1030*time.Millisecond {
				t.Errorf("Writer.Duration = %v, want 1.03s", got)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(p, f, tt.ext)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := readAll(t, r)
			if len(got) != 52*FrameSamples {
				t.Fatalf("read %d samples, want %d (52 frames)", len(got), 52*FrameSamples)
			}
			if d, ok := r.Duration(); !ok || d < time.Second || d > 1040*time.Millisecond {
				t.Errorf("Reader.Duration = %v, %v; want about 1.03s", d, ok)
			}
			if s := snr(want[:len(want)-tt.delay], got[tt.delay:len(want)]); s < tt.minSNR {
				t.Errorf("SNR %.1f dB, want >= %.1f", s, tt.minSNR)
			}
			for i, v := range got[len(want):] {
				if tt.minSNR == math.Inf(1) && v != 0 {
					t.Fatalf("padding sample %d = %d, want 0", i, v)
				}
			}
		})
	}
}

func TestCreateRejects(t *testing.T) {
	for _, name := range []string{"x.mp3", "x.sln16", "x", "x.g722"} {
		if _, err := Create(filepath.Join(t.TempDir(), name)); err == nil || !strings.Contains(err.Error(), "cannot record") {
			t.Errorf("Create(%s) = %v, want a cannot record error", name, err)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		ext        string
		write, cut time.Duration
		want       time.Duration
	}{
		{"wav", time.Second, 300 * time.Millisecond, 700 * time.Millisecond},
		{"sln", time.Second, 2 * time.Second, 0},
		{"alaw", time.Second, -time.Second, time.Second},
		{"ulaw", time.Second, 5 * time.Millisecond, 995 * time.Millisecond},
		{"gsm", time.Second, 30 * time.Millisecond, 960 * time.Millisecond}, // rounded to 20 ms
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			if tt.ext == "gsm" {
				needCodec(t, "gsm")
			}
			p := filepath.Join(t.TempDir(), "t."+tt.ext)
			w, err := Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(sine(int(tt.write*SampleRate/time.Second), 300, 5000)); err != nil {
				t.Fatal(err)
			}
			if err := w.Truncate(tt.cut); err != nil {
				t.Fatal(err)
			}
			if got := w.Duration(); got != tt.want {
				t.Errorf("Duration after Truncate = %v, want %v", got, tt.want)
			}
			// Writing after a truncate continues from the cut.
			if err := w.Write(make([]int16, FrameSamples)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(p, f, tt.ext)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := tt.want + 20*time.Millisecond
			if d, _ := r.Duration(); d != want {
				t.Errorf("file lasts %v, want %v", d, want)
			}
		})
	}
}

// TestWAVReadBySox checks that sox accepts our WAV files, closed or not.
func TestWAVReadBySox(t *testing.T) {
	sox := needSox(t)
	p := filepath.Join(t.TempDir(), "rec.wav")
	w, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sine(12000, 1000, 10000)); err != nil {
		t.Fatal(err)
	}
	// Before Close the header holds "unknown" sizes: a crashed recording.
	crashed := filepath.Join(t.TempDir(), "crash.wav")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crashed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(sox, "--i", p).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 8000", "16-bit Signed Integer PCM", "00:00:01.50 = 12000 samples"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sox --i output lacks %q:\n%s", want, out)
		}
	}

	// sox decodes the crashed file to its real length.
	raw, err := exec.Command(sox, "-V1", crashed, "-t", "raw", "-").Output()
	if err != nil {
		t.Fatalf("sox on crashed file: %v", err)
	}
	if got := len(raw) / 2; got != 12000 {
		t.Errorf("sox decoded %d samples of the crashed file, want 12000", got)
	}
	f, err := os.Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(crashed, f, "wav")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if d, ok := r.Duration(); !ok || d != 1500*time.Millisecond {
		t.Errorf("crashed file Duration = %v, %v; want 1.5s from the file size", d, ok)
	}
	if got := len(readAll(t, r)); got != 12000 {
		t.Errorf("read %d samples of crashed file, want 12000", got)
	}
}

func TestWriterClosed(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "c.sln"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Write(make([]int16, 160)); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

// TestGSMReadBySox cross-checks our GSM files against sox's libgsm.
func TestGSMReadBySox(t *testing.T) {
	sox := needSox(t)
	needCodec(t, "gsm")
	p := filepath.Join(t.TempDir(), "tone.gsm")
	w, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sine(8000, 1000, 10000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := exec.Command(sox, "-V1", "-t", "gsm", "-r", "8000", p, "-t", "raw", "-e", "signed-integer", "-b", "16", "-").Output()
	if err != nil {
		t.Fatalf("sox: %v", err)
	}
	got := make([]int16, len(raw)/2)
	for i := range got {
		got[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
	}
	if len(got) != 8000 {
		t.Fatalf("sox decoded %d samples, want 8000", len(got))
	}
	if zc := zeroCrossings(got[400:7600]); zc < 1780 || zc > 1820 {
		t.Errorf("%d zero crossings in 0.9 s, want about 1800 (1 kHz)", zc)
	}
	if v := rms(got[400:7600]); v < 5000 || v > 9000 {
		t.Errorf("RMS %.0f, want about 7071", v)
	}
}
