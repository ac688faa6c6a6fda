package codec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestGSMSine(t *testing.T) {
	c, _ := Lookup("gsm")
	for _, f := range []float64{300, 1000, 2500} {
		enc, _ := c.NewEncoder()
		dec, _ := c.NewDecoder()
		in := sine(16000, 8000, f, 12000)
		p, err := enc.Encode(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 100*33 {
			t.Fatalf("payload %d bytes", len(p))
		}
		out, err := dec.Decode(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		out = out[800:]
		if got := dominantFreq(out, 8000); got != f {
			t.Errorf("%v Hz: dominant frequency %v", f, got)
		}
		snr := toneSNR(out, 8000, f)
		t.Logf("%v Hz: SNR %.1f dB", f, snr)
		if snr < 20 {
			t.Errorf("%v Hz: SNR %.1f dB < 20", f, snr)
		}
	}
}

func TestGSMErrors(t *testing.T) {
	if _, err := NewGSMEncoder().Encode(nil, make([]int16, 100)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("short frame: %v", err)
	}
	if _, err := NewGSMDecoder().Decode(nil, make([]byte, 32)); !errors.Is(err, ErrGSMFrame) {
		t.Errorf("short payload: %v", err)
	}
	if _, err := NewGSMDecoder().Decode(nil, make([]byte, 33)); !errors.Is(err, ErrGSMFrame) {
		t.Errorf("no signature: %v", err)
	}
}

// TestGSMSox checks bit-exactness with sox, which uses libgsm: our
// encoder's frames equal sox's, and our decoder's PCM equals sox's
// decoding of the same frames.
func TestGSMSox(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	in := testSignal(5*8000, 8000)
	writeS16(t, filepath.Join(dir, "in.raw"), in)
	runSox(t, sox, dir, "-D", "-t", "raw", "-e", "signed", "-b", "16", "-r", "8000", "-c", "1", "in.raw", "sox.gsm")
	want, err := os.ReadFile(filepath.Join(dir, "sox.gsm"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewGSMEncoder().Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoder differs from sox/libgsm at byte %d (frame %d) of %d", firstDiff(got, want), firstDiff(got, want)/33, len(want))
	}
	ours, err := NewGSMDecoder().Decode(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	runSox(t, sox, dir, "-D", "sox.gsm", "-t", "raw", "-e", "signed", "-b", "16", "out.raw")
	soxPCM := readS16(t, filepath.Join(dir, "out.raw"))
	if len(soxPCM) != len(ours) {
		t.Fatalf("sox decoded %d samples, we %d", len(soxPCM), len(ours))
	}
	for i := range ours {
		if ours[i] != soxPCM[i] {
			t.Fatalf("decoder differs from sox/libgsm at sample %d: %d vs %d", i, ours[i], soxPCM[i])
		}
	}
	// A sox-made tone decodes to that tone.
	runSox(t, sox, dir, "-D", "-n", "-r", "8000", "-c", "1", "tone.gsm", "synth", "2", "sine", "1000", "vol", "0.5")
	tone, _ := os.ReadFile(filepath.Join(dir, "tone.gsm"))
	pcm, err := NewGSMDecoder().Decode(nil, tone)
	if err != nil {
		t.Fatal(err)
	}
	if f := dominantFreq(pcm[800:], 8000); f != 1000 {
		t.Errorf("sox tone decodes to %v Hz", f)
	}
}
