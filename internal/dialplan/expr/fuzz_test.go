package expr

import (
	"errors"
	"testing"
)

// FuzzEval checks that no input makes the evaluator panic or loop, that a
// syntax error always yields "0", and that evaluation is deterministic.
// Seeds live in testdata/fuzz/FuzzEval.
func FuzzEval(f *testing.F) {
	for _, seed := range []string{
		"1 + 2 * 3",
		`"${CALLERID(num)}" = "100" & ${X} > 3`,
		"1 ? a :: b",
		"abc =~ (b)c",
		"LEN(a,,b) ~~ x",
		"!-!-1",
	} {
		f.Add(seed)
	}
	fn := func(name, args string) (string, bool) { return name + args, name != "NONE" }
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Eval(s, fn)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Eval(%q): error %v is not a *SyntaxError", s, err)
			}
			if got != "0" {
				t.Fatalf("Eval(%q) = %q with a syntax error, want \"0\"", s, got)
			}
		}
		again, err2 := Eval(s, fn)
		if again != got || (err == nil) != (err2 == nil) {
			t.Fatalf("Eval(%q) is not deterministic: %q then %q", s, got, again)
		}
	})
}
