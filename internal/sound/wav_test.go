package sound

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadSoxWAV reads WAV files in the variants sox produces, checking
// length, level and pitch (a 1 kHz tone must stay 1 kHz after resampling
// and downmixing).
func TestReadSoxWAV(t *testing.T) {
	sox := needSox(t)
	tests := []struct {
		name string
		args []string // sox output options
	}{
		{"pcm16-8k", []string{"-r", "8000", "-b", "16"}},
		{"pcm16-16k", []string{"-r", "16000", "-b", "16"}},
		{"pcm16-48k", []string{"-r", "48000", "-b", "16"}},
		{"pcm8", []string{"-r", "8000", "-b", "8"}},
		{"ulaw", []string{"-r", "8000", "-e", "u-law"}},
		{"alaw", []string{"-r", "8000", "-e", "a-law"}},
		{"ulaw-16k", []string{"-r", "16000", "-e", "u-law"}},
		{"stereo", []string{"-r", "8000", "-b", "16", "-c", "2"}},
		{"stereo-16k", []string{"-r", "16000", "-b", "16", "-c", "2"}},
		{"extensible-3ch", []string{"-r", "8000", "-b", "16", "-c", "3"}},
		{"with-comment", []string{"-r", "8000", "-b", "16", "--comment", "a LIST chunk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "t.wav")
			args := append([]string{"-V1", "-n"}, tt.args...)
			args = append(args, p, "synth", "1", "sine", "1000", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox %v: %v\n%s", args, err, out)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(p, f, "wav")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if d, ok := r.Duration(); !ok || d != time.Second {
				t.Errorf("Duration = %v, %v; want 1s", d, ok)
			}
			got := readAll(t, r)
			if len(got) < 49*FrameSamples || len(got) > 50*FrameSamples {
				t.Errorf("read %d samples, want about 8000", len(got))
			}
			// A full-scale sine at half volume has an RMS of 16384/√2.
			if v := rms(got[400:7600]); v < 10000 || v > 13000 {
				t.Errorf("RMS %.0f, want about 11585", v)
			}
			if zc := zeroCrossings(got[400:7600]); zc < 1780 || zc > 1820 {
				t.Errorf("%d zero crossings in 0.9 s, want about 1800 (1 kHz)", zc)
			}
		})
	}
}

// TestRejectWAV checks unsupported WAV content fails with a clear error.
func TestRejectWAV(t *testing.T) {
	sox := needSox(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"float", []string{"-r", "8000", "-e", "floating-point"}, "IEEE float"},
		{"wav49", []string{"-r", "8000", "-e", "gsm-full-rate"}, "GSM"},
		{"ima-adpcm", []string{"-r", "8000", "-e", "ima-adpcm"}, "IMA ADPCM"},
		{"pcm24", []string{"-r", "8000", "-b", "24"}, "24 bits"},
		{"22k", []string{"-r", "22050", "-b", "16"}, "22050 Hz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "t.wav")
			args := append([]string{"-V1", "-n"}, tt.args...)
			args = append(args, p, "synth", "0.1", "sine", "1000")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox %v: %v\n%s", args, err, out)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = OpenReader(p, f, "wav")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("OpenReader = %v, want an error naming %s and containing %q", err, p, tt.want)
			}
		})
	}
}

func TestReadWAVDamaged(t *testing.T) {
	good := appendWAVHeader(nil, 8000, 3200)
	good = append(good, make([]byte, 3200)...)
	le := binary.LittleEndian
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a RIFF WAVE"},
		{"text", []byte("hello, this is not audio"), "not a RIFF WAVE"},
		{"no data chunk", good[:36], "no data chunk"},
		{"data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), 0), "before fmt"},
		{"mono 0 channels", func() []byte {
			b := bytes.Clone(good)
			le.PutUint16(b[22:], 0)
			return b
		}(), "0 channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenReader("x.wav", bytes.NewReader(tt.data), "wav")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "x.wav") {
				t.Errorf("err = %v, want one containing %q and x.wav", err, tt.want)
			}
		})
	}

	// A data chunk shorter than claimed (a truncated copy) plays what is there.
	short := good[:44+1000]
	r, err := OpenReader("short.wav", bytes.NewReader(short), "wav")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, r)); got != 4*FrameSamples {
		t.Errorf("read %d samples of 500, want them padded to 640", got)
	}
}
