package codec

import (
	"os"
	"path/filepath"
	"testing"
)

func TestG711KnownValues(t *testing.T) {
	// Bit patterns from G.711 tables 2a/2b (codes after inversion) and
	// the G.191 reference implementation.
	ulawEnc := []struct {
		in   int16
		want byte
	}{
		{0, 0xff}, {-1, 0x7f}, {1, 0xff}, {32767, 0x80}, {-32768, 0x00},
		{-32124, 0x00}, {32124, 0x80},
		// first segment: step 8 (2 in 14-bit units) around zero
		{3, 0xff}, {4, 0xfe}, {-4, 0x7f}, {-5, 0x7e}, {11, 0xfe}, {12, 0xfd},
		// segment boundary: decision value 31 (14 bit) = 124..127
		{123, 0xf0}, {124, 0xef},
	}
	for _, c := range ulawEnc {
		if got := LinearToUlaw(c.in); got != c.want {
			t.Errorf("LinearToUlaw(%d) = %#02x, want %#02x", c.in, got, c.want)
		}
	}
	alawEnc := []struct {
		in   int16
		want byte
	}{
		{0, 0xd5}, {-1, 0x55}, {15, 0xd5}, {16, 0xd4}, {-16, 0x55}, {-17, 0x54},
		{32767, 0xaa}, {-32768, 0x2a},
	}
	for _, c := range alawEnc {
		if got := LinearToAlaw(c.in); got != c.want {
			t.Errorf("LinearToAlaw(%d) = %#02x, want %#02x", c.in, got, c.want)
		}
	}
	ulawDec := map[byte]int16{0x00: -32124, 0x80: 32124, 0xff: 0, 0x7f: 0, 0xfe: 8, 0x7e: -8, 0xf0: 120, 0xef: 132, 0x8f: 16764}
	for b, want := range ulawDec {
		if got := UlawToLinear(b); got != want {
			t.Errorf("UlawToLinear(%#02x) = %d, want %d", b, got, want)
		}
	}
	alawDec := map[byte]int16{0xd5: 8, 0x55: -8, 0xaa: 32256, 0x2a: -32256, 0xd4: 24, 0xc5: 264, 0xd0: 88}
	for b, want := range alawDec {
		if got := AlawToLinear(b); got != want {
			t.Errorf("AlawToLinear(%#02x) = %d, want %d", b, got, want)
		}
	}
}

func TestG711RoundTripCodes(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if b != 0x7f { // -0 re-encodes as +0
			if got := LinearToUlaw(UlawToLinear(b)); got != b {
				t.Errorf("ulaw %#02x -> %d -> %#02x", b, UlawToLinear(b), got)
			}
		}
		if got := LinearToAlaw(AlawToLinear(b)); got != b {
			t.Errorf("alaw %#02x -> %d -> %#02x", b, AlawToLinear(b), got)
		}
	}
}

// TestG711QuantiserExhaustive checks every 16-bit input: the reconstructed
// value is monotonic in the input, and the error stays within half of the
// segment's step (plus the one's complement half LSB on negatives).
func TestG711QuantiserExhaustive(t *testing.T) {
	type law struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
		step func(v int) int
		max  int
	}
	laws := []law{
		{"ulaw", LinearToUlaw, UlawToLinear, func(v int) int {
			seg := 0
			for m := (v + 132) >> 8; m > 0; m >>= 1 {
				seg++
			}
			return 8 << seg
		}, 32124},
		{"alaw", LinearToAlaw, AlawToLinear, func(v int) int {
			seg := 0
			for m := v >> 8; m > 0; m >>= 1 {
				seg++
			}
			return 16 << max(seg-1, 0)
		}, 32256},
	}
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			prev := -1 << 20
			for x := -32768; x <= 32767; x++ {
				y := int(l.dec(l.enc(int16(x))))
				if y < prev {
					t.Fatalf("not monotonic at %d: %d < %d", x, y, prev)
				}
				prev = y
				ax := min(max(x, -l.max), l.max)
				if d := abs(y - ax); d > l.step(abs(ax))/2+1 {
					t.Fatalf("x=%d decoded %d, error %d > step/2 %d", x, y, d, l.step(abs(ax))/2)
				}
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestG711Transcode(t *testing.T) {
	// The G.711 conversion tables (3 and 4), as also published in spandsp.
	for i := range 256 {
		if got := UlawToAlaw(byte(i)); got != g711U2A[i] {
			t.Errorf("UlawToAlaw(%#02x) = %#02x, want %#02x", i, got, g711U2A[i])
		}
		if got := AlawToUlaw(byte(i)); got != g711A2U[i] {
			t.Errorf("AlawToUlaw(%#02x) = %#02x, want %#02x", i, got, g711A2U[i])
		}
	}
	// Frame helpers agree with the per-byte tables and reuse dst.
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]byte, 0, 256)
	out := UlawToAlawFrame(dst, src)
	if &out[0] != &dst[:1][0] {
		t.Error("UlawToAlawFrame did not reuse dst")
	}
	for i, b := range out {
		if b != UlawToAlaw(byte(i)) {
			t.Fatalf("frame[%d] = %#02x", i, b)
		}
	}
	out = AlawToUlawFrame(out, src)
	for i, b := range out {
		if b != AlawToUlaw(byte(i)) {
			t.Fatalf("frame[%d] = %#02x", i, b)
		}
	}
}

// g711U2A and g711A2U are G.711 tables 3 and 4 in wire code order.
var g711U2A = [256]byte{
	42, 43, 40, 41, 46, 47, 44, 45, 34, 35, 32, 33, 38, 39, 36, 37,
	58, 59, 56, 57, 62, 63, 60, 61, 50, 51, 48, 49, 54, 55, 52, 53,
	10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 26,
	27, 24, 25, 30, 31, 28, 29, 18, 19, 16, 17, 22, 23, 20, 21, 106,
	104, 105, 110, 111, 108, 109, 98, 99, 96, 97, 102, 103, 100, 101, 122, 120,
	126, 127, 124, 125, 114, 115, 112, 113, 118, 119, 116, 117, 75, 73, 79, 77,
	66, 67, 64, 65, 70, 71, 68, 69, 90, 91, 88, 89, 94, 95, 92, 93,
	82, 82, 83, 83, 80, 80, 81, 81, 86, 86, 87, 87, 84, 84, 85, 85,
	170, 171, 168, 169, 174, 175, 172, 173, 162, 163, 160, 161, 166, 167, 164, 165,
	186, 187, 184, 185, 190, 191, 188, 189, 178, 179, 176, 177, 182, 183, 180, 181,
	138, 139, 136, 137, 142, 143, 140, 141, 130, 131, 128, 129, 134, 135, 132, 154,
	155, 152, 153, 158, 159, 156, 157, 146, 147, 144, 145, 150, 151, 148, 149, 234,
	232, 233, 238, 239, 236, 237, 226, 227, 224, 225, 230, 231, 228, 229, 250, 248,
	254, 255, 252, 253, 242, 243, 240, 241, 246, 247, 244, 245, 203, 201, 207, 205,
	194, 195, 192, 193, 198, 199, 196, 197, 218, 219, 216, 217, 222, 223, 220, 221,
	210, 210, 211, 211, 208, 208, 209, 209, 214, 214, 215, 215, 212, 212, 213, 213,
}

var g711A2U = [256]byte{
	42, 43, 40, 41, 46, 47, 44, 45, 34, 35, 32, 33, 38, 39, 36, 37,
	57, 58, 55, 56, 61, 62, 59, 60, 49, 50, 47, 48, 53, 54, 51, 52,
	10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5,
	26, 27, 24, 25, 30, 31, 28, 29, 18, 19, 16, 17, 22, 23, 20, 21,
	98, 99, 96, 97, 102, 103, 100, 101, 93, 93, 92, 92, 95, 95, 94, 94,
	116, 118, 112, 114, 124, 126, 120, 122, 106, 107, 104, 105, 110, 111, 108, 109,
	72, 73, 70, 71, 76, 77, 74, 75, 64, 65, 63, 63, 68, 69, 66, 67,
	86, 87, 84, 85, 90, 91, 88, 89, 79, 79, 78, 78, 82, 83, 80, 81,
	170, 171, 168, 169, 174, 175, 172, 173, 162, 163, 160, 161, 166, 167, 164, 165,
	185, 186, 183, 184, 189, 190, 187, 188, 177, 178, 175, 176, 181, 182, 179, 180,
	138, 139, 136, 137, 142, 143, 140, 141, 130, 131, 128, 129, 134, 135, 132, 133,
	154, 155, 152, 153, 158, 159, 156, 157, 146, 147, 144, 145, 150, 151, 148, 149,
	226, 227, 224, 225, 230, 231, 228, 229, 221, 221, 220, 220, 223, 223, 222, 222,
	244, 246, 240, 242, 252, 254, 248, 250, 234, 235, 232, 233, 238, 239, 236, 237,
	200, 201, 198, 199, 204, 205, 202, 203, 192, 193, 191, 191, 196, 197, 194, 195,
	214, 215, 212, 213, 218, 219, 216, 217, 207, 207, 206, 206, 210, 211, 208, 209,
}

func TestG711Sine(t *testing.T) {
	for _, name := range []string{"ulaw", "alaw"} {
		t.Run(name, func(t *testing.T) {
			c, _ := Lookup(name)
			enc, _ := c.NewEncoder()
			dec, _ := c.NewDecoder()
			in := sine(8000, 8000, 1000, 16000)
			p, err := enc.Encode(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := dec.Decode(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			// G.711 gives ~38 dB SQNR for a loud sine.
			if snr := toneSNR(out, 8000, 1000); snr < 35 {
				t.Errorf("SNR %.1f dB < 35", snr)
			}
		})
	}
}

// TestG711Sox checks our codec against sox (libsox g711): decoding is bit
// exact; encoding differs only at decision values, because sox rounds the
// input to 14/13 bits where the ITU G.191 reference truncates.
func TestG711Sox(t *testing.T) {
	sox := needSox(t)
	for _, c := range []struct{ name, ext string }{{"ulaw", "ul"}, {"alaw", "al"}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			codec, _ := Lookup(c.name)
			enc, _ := codec.NewEncoder()
			dec, _ := codec.NewDecoder()
			// Decode: every code through sox and through us.
			all := make([]byte, 256)
			for i := range all {
				all[i] = byte(i)
			}
			if err := os.WriteFile(filepath.Join(dir, "all."+c.ext), all, 0o644); err != nil {
				t.Fatal(err)
			}
			runSox(t, sox, dir, "-D", "-r", "8000", "-c", "1", "all."+c.ext, "-e", "signed", "-b", "16", "-t", "raw", "all.raw")
			soxPCM := readS16(t, filepath.Join(dir, "all.raw"))
			ours, _ := dec.Decode(nil, all)
			for i := range ours {
				if ours[i] != soxPCM[i] {
					t.Errorf("decode %#02x: ours %d, sox %d", i, ours[i], soxPCM[i])
				}
			}
			// Encode: a ramp over the full 16-bit range through sox and us.
			ramp := make([]int16, 65536)
			for i := range ramp {
				ramp[i] = int16(i - 32768)
			}
			writeS16(t, filepath.Join(dir, "ramp.raw"), ramp)
			runSox(t, sox, dir, "-D", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", "-t", "raw", "ramp.raw", "ramp."+c.ext)
			soxEnc, err := os.ReadFile(filepath.Join(dir, "ramp."+c.ext))
			if err != nil {
				t.Fatal(err)
			}
			ourEnc, _ := enc.Encode(nil, ramp)
			diff := 0
			for i := range ourEnc {
				if ourEnc[i] == soxEnc[i] {
					continue
				}
				// sox rounds to 14 (µ) or 13 (A) bits before quantising
				// where G.191 truncates, so near a decision value sox picks
				// the code we pick for an input at most 8 LSBs away.
				x := int(ramp[i])
				near := false
				for k := -8; k <= 8 && !near; k++ {
					if y := x + k; y >= -32768 && y <= 32767 {
						near = codecEncode(c.name, int16(y)) == soxEnc[i]
					}
				}
				if !near {
					t.Fatalf("encode %d: ours %#02x, sox %#02x", x, ourEnc[i], soxEnc[i])
				}
				diff++
			}
			t.Logf("%d of 65536 encodings differ from sox, all at decision points", diff)
			// And sox's own 1 kHz tone decodes to a clean 1 kHz.
			runSox(t, sox, dir, "-D", "-n", "-r", "8000", "-c", "1", "-e", c.name[:1]+"-law", "tone."+c.ext, "synth", "1", "sine", "1000", "vol", "0.5")
			tone, err := os.ReadFile(filepath.Join(dir, "tone."+c.ext))
			if err != nil {
				t.Fatal(err)
			}
			pcm, _ := dec.Decode(nil, tone)
			if f := dominantFreq(pcm, 8000); f != 1000 {
				t.Errorf("dominant frequency %v, want 1000", f)
			}
			if snr := toneSNR(pcm, 8000, 1000); snr < 30 {
				t.Errorf("SNR %.1f dB", snr)
			}
		})
	}
}

func codecEncode(name string, x int16) byte {
	if name == "ulaw" {
		return LinearToUlaw(x)
	}
	return LinearToAlaw(x)
}

func codecDecode(name string, b byte) int16 {
	if name == "ulaw" {
		return UlawToLinear(b)
	}
	return AlawToLinear(b)
}

func TestLookup(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ulaw", "ulaw"}, {"ULAW", "ulaw"}, {"g711u", "ulaw"}, {"PCMU", "ulaw"},
		{"alaw", "alaw"}, {"g711a", "alaw"}, {"pcma", "alaw"},
	} {
		got, ok := Lookup(c.in)
		if !ok || got.Name() != c.want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", c.in, got, ok, c.want)
		}
	}
	if _, ok := Lookup("speex"); ok {
		t.Error("Lookup(speex) succeeded")
	}
	if c, ok := ByEncoding("pcma", 8000); !ok || c.Name() != "alaw" || c.StaticPT() != 8 {
		t.Errorf("ByEncoding(pcma) = %v, %v", c, ok)
	}
	if _, ok := ByEncoding("PCMA", 16000); ok {
		t.Error("ByEncoding(PCMA/16000) succeeded")
	}
	seen := map[string]bool{}
	for _, c := range All() {
		if seen[c.Name()] {
			t.Errorf("duplicate %s", c.Name())
		}
		seen[c.Name()] = true
		if c.FrameSamples() != c.SampleRate()/50 {
			t.Errorf("%s: FrameSamples %d", c.Name(), c.FrameSamples())
		}
		got, ok := ByEncoding(c.Encoding(), c.ClockRate())
		if !ok || got.Name() != c.Name() {
			t.Errorf("ByEncoding(%s/%d) = %v", c.Encoding(), c.ClockRate(), got)
		}
	}
}

func TestCodecParameters(t *testing.T) {
	for _, c := range []struct {
		name, enc                 string
		pt, clock, rate, channels int
		frame                     int
	}{
		{"ulaw", "PCMU", 0, 8000, 8000, 1, 160},
		{"alaw", "PCMA", 8, 8000, 8000, 1, 160},
		{"g722", "G722", 9, 8000, 16000, 1, 320},
		{"gsm", "GSM", 3, 8000, 8000, 1, 160},
	} {
		got, ok := Lookup(c.name)
		if !ok {
			t.Fatalf("Lookup(%s) failed", c.name)
		}
		if got.Encoding() != c.enc || got.StaticPT() != c.pt || got.ClockRate() != c.clock ||
			got.SampleRate() != c.rate || got.Channels() != c.channels || got.FrameSamples() != c.frame || got.Fmtp() != "" {
			t.Errorf("%s: %s pt %d clock %d rate %d ch %d frame %d fmtp %q", c.name, got.Encoding(), got.StaticPT(),
				got.ClockRate(), got.SampleRate(), got.Channels(), got.FrameSamples(), got.Fmtp())
		}
		// Each NewEncoder/NewDecoder is independent state.
		e1, _ := got.NewEncoder()
		e2, _ := got.NewEncoder()
		if c.name != "ulaw" && c.name != "alaw" && e1 == e2 {
			t.Errorf("%s: NewEncoder returned shared state", c.name)
		}
	}
	if c, ok := ByEncoding("g722", 8000); !ok || c.Name() != "g722" {
		t.Error("ByEncoding(g722, 8000) failed")
	}
	if _, ok := ByEncoding("G722", 16000); ok {
		t.Error("ByEncoding(G722, 16000) should fail: the rtpmap clock is 8000")
	}
}
