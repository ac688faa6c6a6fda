package dialplan

import (
	"sort"
	"testing"
)

// TestExtCmpOrder checks the order Asterisk's ext_cmp sorts a context in,
// which is the order matching tries extensions: exact names first, then
// patterns from the most specific.
func TestExtCmpOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"exact before patterns", []string{"_X.", "100", "_1XX", "s"}, []string{"100", "s", "_1XX", "_X."}},
		{"digit < range < N < Z < X < . < !", []string{"_!", "_.", "_X", "_Z", "_N", "_[1-5]", "_7"},
			[]string{"_7", "_[1-5]", "_N", "_Z", "_X", "_.", "_!"}},
		{"specific prefix first", []string{"_X.", "_1XX", "_12X"}, []string{"_12X", "_1XX", "_X."}},
		{"same set size: lower chars first", []string{"_[6-9]", "_[2-5]"}, []string{"_[2-5]", "_[6-9]"}},
		{"longer match is not preferred by length", []string{"_80XX", "_80."}, []string{"_80XX", "_80."}},
		{"prefix routes", []string{"_X.", "_012.", "_0XXXXXXXXX"}, []string{"_012.", "_0XXXXXXXXX", "_X."}},
		{"exact in byte order", []string{"200", "1000", "100"}, []string{"100", "1000", "200"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := append([]string(nil), tc.in...)
			sort.SliceStable(got, func(i, j int) bool { return extCmp(stripFluff(got[i]), stripFluff(got[j])) < 0 })
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("sorted %v, want %v", got, tc.want)
				}
			}
		})
	}
	// Sets that match the same characters are the same extension.
	if extCmp("_N", "_[2-9]") != 0 || extCmp("_X", "_[0-9]") != 0 {
		t.Error("_N/_[2-9] or _X/_[0-9] compare different; Asterisk treats them as one extension")
	}
}

func TestExtMatch(t *testing.T) {
	tests := []struct {
		pattern, data    string
		exact, can, more int
	}{
		// pattern, data, E_MATCH, E_CANMATCH, E_MATCHMORE
		{"100", "100", 1, 1, 0},
		{"100", "10", 0, 1, 1},
		{"100", "1000", 0, 0, 0},
		{"100", "", 0, 1, 1},
		{"555-1212", "5551212", 1, 1, 0},
		{"5551212", "555-1212", 1, 1, 0},
		{"_X.", "1", 0, 1, 1}, // . is one or more: _X. needs two digits
		{"_X.", "12", 1, 1, 1},
		{"_X.", "", 0, 1, 1},
		{"_80XX", "8005", 1, 1, 0},
		{"_80XX", "800", 0, 1, 1},
		{"_80XX", "80055", 0, 0, 0},
		{"_80XX", "9005", 0, 0, 0},
		{"_0XXXXXXXXX", "0212345678", 1, 1, 0},
		{"_0XXXXXXXXX", "021234567", 0, 1, 1},
		{"_0XXXXXXXXX", "02123456789", 0, 0, 0},
		{"_90.", "90123", 1, 1, 1},
		{"_90.", "90", 0, 1, 1},
		{"_012.", "012101", 1, 1, 1},
		{"_NXX", "200", 1, 1, 0},
		{"_NXX", "100", 0, 0, 0},
		{"_ZXX", "100", 1, 1, 0},
		{"_ZXX", "000", 0, 0, 0},
		{"_[1-5]X", "35", 1, 1, 0},
		{"_[1-5]X", "65", 0, 0, 0},
		{"_[a-c]X", "b1", 1, 1, 0},
		{"_[a-c]X", "B1", 0, 0, 0},
		{"_[1,5]X", "51", 1, 1, 0},
		{"_nxx", "200", 1, 1, 0}, // wildcard letters in either case
		{"_1!", "1", 2, 2, 2},
		{"_1!", "123", 2, 2, 2},
		{"_1X!", "1", 0, 1, 1},
		{"_1-2X", "125", 1, 1, 0}, // '-' in a pattern is ignored
		{"_12X", "1-25", 1, 1, 0}, // '-' in the data is ignored
		{"_[", "1", 0, 0, 0},
	}
	for _, tc := range tests {
		p := stripFluff(tc.pattern)
		for _, m := range []struct {
			mode matchMode
			want int
			name string
		}{{matchExact, tc.exact, "match"}, {canMatch, tc.can, "canmatch"}, {matchMore, tc.more, "matchmore"}} {
			if got := extMatch(p, tc.data, m.mode); got != m.want {
				t.Errorf("%s(%q, %q) = %d, want %d", m.name, tc.pattern, tc.data, got, m.want)
			}
		}
	}
}

func TestShrinkPhoneNumber(t *testing.T) {
	for in, want := range map[string]string{
		"(555) 123-4567": "5551234567",
		"_555[1-3]XXX":   "_555[1-3]XXX",
		"555.123.":       "555123.",
	} {
		if got := shrinkPhoneNumber(in); got != want {
			t.Errorf("shrinkPhoneNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubstring(t *testing.T) {
	tests := []struct {
		v           string
		off, length int
		want        string
	}{
		{"90123", 2, 1 << 30, "123"},
		{"90123", -3, 1 << 30, "123"},
		{"90123", 0, 2, "90"},
		{"90123", 1, -1, "012"},
		{"90123", -10, 2, "90"},
		{"90123", 10, 2, ""},
		{"90123", 0, -10, ""},
		{"90123", -2, -1, "2"},
	}
	for _, tc := range tests {
		if got := substring(tc.v, tc.off, tc.length); got != tc.want {
			t.Errorf("substring(%q, %d, %d) = %q, want %q", tc.v, tc.off, tc.length, got, tc.want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	dp, _, err := Parse("extensions.conf", []byte(`
[in]
exten => 100,1,NoOp()
exten => _1XX,1,NoOp()
exten => _2XX,1,NoOp()
exten => _0XXXXXXXXX,1,NoOp()
exten => _90.,1,NoOp()
exten => _X.,1,NoOp()
include => other
[other]
exten => _8XXX,1,NoOp()
`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		dp.Match("in", "8005", "")
	}
}
