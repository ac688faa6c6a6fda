package app

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSplitPlain: without quotes or backslashes, the substring split gives
// what the byte-by-byte one gives, for every delimiter, limit and mode.
func TestSplitPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab,|&()[] "
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(14))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if s == "" {
			continue
		}
		for _, delim := range []byte{',', '|', '&', '('} {
			for n := 0; n < 4; n++ {
				for _, raw := range []bool{false, true} {
					want := splitQuoted(s, delim, n, raw)
					if got := splitPlain(s, delim, n); !slices.Equal(got, want) {
						t.Fatalf("Split(%q, %q, %d, %v) = %q, want %q", s, delim, n, raw, got, want)
					}
				}
			}
		}
	}
	if got := Split("SIP/1002,30,tT", ',', 0, false); !slices.Equal(got, []string{"SIP/1002", "30", "tT"}) {
		t.Errorf("Dial's arguments: %q", got)
	}
}
