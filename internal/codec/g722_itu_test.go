package codec

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestG722ITUVectors runs the ITU-T G.722 Appendix II digital test
// sequences (ASCII "g722-ascii" files from the ITU software package) when
// GOPBX_G722_VECTORS names a directory holding them. They are ITU
// copyright, so they are not in the repository. The sequences test the
// sub-band ADPCM with the QMF bypassed: the encoder gets xlow = xhigh =
// x>>1 and the decoder's rlow<<1 and rhigh<<1 are compared separately.
func TestG722ITUVectors(t *testing.T) {
	dir := os.Getenv("GOPBX_G722_VECTORS")
	if dir == "" {
		t.Skip("GOPBX_G722_VECTORS not set")
	}
	load := func(name string) []uint16 {
		t.Helper()
		w, err := readITUHex(filepath.Join(dir, name))
		if err != nil {
			t.Skipf("vector %s: %v", name, err)
		}
		return w
	}
	ran := 0
	for _, c := range []struct{ in, cod string }{{"T1C1.XMT", "T2R1.COD"}, {"T1C2.XMT", "T2R2.COD"}} {
		if !exists(dir, c.in) || !exists(dir, c.cod) {
			continue
		}
		xmt, cod := load(c.in), load(c.cod)
		if len(xmt) != len(cod) {
			t.Fatalf("%s/%s: lengths %d, %d", c.in, c.cod, len(xmt), len(cod))
		}
		e := NewG722Encoder()
		lo, hi := activeRange(xmt)
		for k := lo; k < hi; k++ {
			x := int32(int16(xmt[k])) >> 1
			if got, want := e.encodeBands(x, x), byte(cod[k]>>8); got != want {
				t.Fatalf("%s: word %d: code %#02x, want %#02x", c.in, k, got, want)
			}
		}
		t.Logf("%s -> %s: %d codes bit-exact", c.in, c.cod, hi-lo)
		ran++
	}
	for _, c := range []struct{ cod, low, high string }{
		{"T2R1.COD", "T3L1.RC1", "T3H1.RC0"},
		{"T2R2.COD", "T3L2.RC1", "T3H2.RC0"},
		{"T1D3.COD", "T3L3.RC1", "T3H3.RC0"},
	} {
		if !exists(dir, c.cod) || !exists(dir, c.low) || !exists(dir, c.high) {
			continue
		}
		cod, low, high := load(c.cod), load(c.low), load(c.high)
		d := NewG722Decoder()
		lo, hi := activeRange(cod)
		for k := lo; k < hi; k++ {
			rl, rh := d.decodeBands(byte(cod[k] >> 8))
			if got, want := int16(rl<<1), int16(low[k]); got != want {
				t.Fatalf("%s: word %d: low band %d, want %d", c.cod, k, got, want)
			}
			if got, want := int16(rh<<1), int16(high[k]); got != want {
				t.Fatalf("%s: word %d: high band %d, want %d", c.cod, k, got, want)
			}
		}
		t.Logf("%s -> %s, %s: %d samples bit-exact", c.cod, c.low, c.high, hi-lo)
		ran++
	}
	if ran == 0 {
		t.Skip("no complete vector set found")
	}
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// readITUHex parses an ITU ASCII test sequence: /* */ comment lines, then
// lines of 16 big-endian hex words followed by a check byte (not verified:
// a corrupt file shows up as a mismatch anyway).
func readITUHex(path string) ([]uint16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var words []uint16
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "/*") {
			continue
		}
		b, err := hex.DecodeString(l)
		if err != nil || len(b)%2 != 1 {
			return nil, &os.PathError{Op: "parse", Path: path, Err: errBadLine(line)}
		}
		for i := 0; i+1 < len(b)-1; i += 2 {
			words = append(words, uint16(b[i])<<8|uint16(b[i+1]))
		}
	}
	return words, sc.Err()
}

type errBadLine int

func (e errBadLine) Error() string { return "bad line " + itoa(int(e)) }

// activeRange skips the reset words (LSB set) that bracket a sequence.
func activeRange(w []uint16) (lo, hi int) {
	for lo < len(w) && w[lo]&1 == 1 {
		lo++
	}
	hi = lo
	for hi < len(w) && w[hi]&1 == 0 {
		hi++
	}
	return lo, hi
}
