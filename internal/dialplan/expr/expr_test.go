package expr

import (
	"errors"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	funcs := func(name, args string) (string, bool) {
		switch name {
		case "LEN":
			return string(rune('0' + len(args))), true
		case "ECHO":
			return args, true
		}
		return "", false
	}
	tests := []struct {
		in, want string
	}{
		// Arithmetic, floats, precedence.
		{"1 + 1", "2"},
		{"1+1", "2"},
		{"7 / 2", "3.5"},
		{"6 / 3", "2"},
		{"10 / 0", "2147483647"},
		{"10 / abc", "2147483647"},
		{"abc / 10", "0"},
		{"10 % 3", "1"},
		{"10 % 0", "0"},
		{"7.5 % 2", "1.5"},
		{"2 * 3 + 4", "10"},
		{"2 + 3 * 4", "14"},
		{"(2 + 3) * 4", "20"},
		{"-5 + 2", "-3"},
		{"5 - -3", "8"},
		{"- 0", "-0"},
		{"0.1 + 0.2", "0.3"},
		{"1.5 * 2", "3"},
		{"1 / 3", "0.333333333333333"},
		{"100000000 * 100000000", "10000000000000000"},
		{"1000000000 * 1000000000 * 10", "1e+19"},
		{"3 - abc", "3"},
		{"abc - 3", "-3"},
		{"abc + def", "0"},
		{"abc + 2", "2"},
		{"abc * 2", "0"},
		{"-abc", "0"},
		// Comparisons: numeric when both are numbers, else strings.
		{"1 = 1", "1"},
		{"1 == 2", "0"},
		{"1.0 = 1", "1"},
		{"abc = abc", "1"},
		{"abc != abd", "1"},
		{"abc < abd", "1"},
		{"10 < 9", "0"},
		{"10 < 9a", "1"},
		{"10 >= 10", "1"},
		{"2 <= 1", "0"},
		{`"abc" = abc`, "0"},
		{`"abc" = "abc"`, "1"},
		{"1 + 2 = 3", "1"},
		// Logic.
		{"1 | 0", "1"},
		{"0 | 5", "5"},
		{"007 | 1", "007"},
		{"0 & 1", "0"},
		{"3 & 4", "3"},
		{"2 = 2 | 0", "1"},
		{"1 || 0 && 0", "1"},
		{"!0", "1"},
		{"!1", "0"},
		{"!abc", "1"},
		{"!5", "0"},
		{"!0.5", "1"},
		{"1 ? yes :: no", "yes"},
		{"0 ? yes :: no", "no"},
		{"abc ? yes :: no", "yes"},
		{`"" ? yes :: no`, "no"},
		{"1 ? 2 :: 3 ? 4 :: 5", "4"},
		{"0 ? 2 :: 0 ? 4 :: 5", "5"},
		{"1 ? 0 ? a :: b :: c", "b"},
		// Regular expressions.
		{`abc : "a(b)c"`, "b"},
		{"abc : b", "0"},
		{"abc : a", "1"},
		{"abc =~ b", "1"},
		{`abc =~ "(b)"`, "b"},
		{"abc =~ (b)", "1"}, // unquoted parentheses group, they do not capture
		{`abc : "(x)"`, ""},
		{"abc : (x)", "0"},
		{`1234 : "[0-9]+"`, "4"},
		{`5551234 : "555([0-9]*)"`, "1234"},
		{`"5551234" : "555([0-9]*)" = 1234`, "1"},
		{`"hello world" =~ "o w"`, "3"},
		{`abc =~ "("`, ""},
		{"foo ~~ bar", "foobar"},
		{`"foo" ~~ "bar"`, "foobar"},
		{"- 12 : 1", "-1"},
		// Strings and words.
		{`"abc"`, `"abc"`},
		{"", ""},
		{"   ", ""},
		{"1e5", "1e5"},
		{"2^3", "2^3"},
		{"${X} = 1", "0"},
		{"a${X}b", "a${X}b"},
		{"abc{", "abc"},
		// Functions.
		{"SQRT(16)", "4"},
		{"FLOOR(2.5)", "2"},
		{"CEIL(2.1)", "3"},
		{"ROUND(2.5)", "3"},
		{"RINT(2.5)", "2"},
		{"ABS(-3)", "3"},
		{"POW(2,10)", "1024"},
		{"TRUNC(-2.7)", "-2"},
		{"SQRT(1,2)", "0"},
		{"LEN(hello) + 1", "6"},
		{"ECHO(a,,b)", "a,,b"},
		{"ECHO(12)", "12"},
		{"NOPE(1)", "0"},
		{"lower(1)", "0"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Eval(tc.in, funcs)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Eval(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEvalSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		"1 +",
		"(1",
		"1 2",
		"1 ? 2 : 3",
		"1 ? 2",
		"::",
		"F()",
		"F(,1)",
		"1,2",
		")",
		strings.Repeat("(", 20000) + "1" + strings.Repeat(")", 20000),
		strings.Repeat("!", 20000) + "1",
	} {
		t.Run(in[:min(len(in), 20)], func(t *testing.T) {
			got, err := Eval(in, nil)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Eval(%q) error = %v, want *SyntaxError", in, err)
			}
			if got != "0" {
				t.Errorf("Eval(%q) = %q, want \"0\" on a syntax error", in, got)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-1, "-1"},
		{2.5, "2.5"},
		{1e17, "100000000000000000"},
		{1e18, "1e+18"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{123.456, "123.456"},
		{1.0 / 3, "0.333333333333333"},
	}
	for _, tc := range tests {
		if got := formatNumber(tc.in); got != tc.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Eval(`"5551234" : "555([0-9]*)" = 1234 & 2 + 3 * 4 > 10`, nil)
	}
}

func TestIsTrue(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "0": false, "1": true, "-1": true, " 0": false, "0abc": false,
		"abc": true, " ": true, "00": false, "2": true, "-": true, "+0": false,
	} {
		if got := IsTrue(in); got != want {
			t.Errorf("IsTrue(%q) = %v, want %v", in, got, want)
		}
	}
}
