package expr

import (
	"math"
	"strconv"
	"strings"
)

// kind is ast_expr2's valtype.
type kind int

const (
	kNumber    kind = iota // a computed number
	kNumString             // a string that looks like a number ("12", "1.5")
	kString                // anything else, quotes included
)

type value struct {
	k kind
	n float64
	s string
}

func numVal(n float64) value       { return value{k: kNumber, n: n} }
func strVal(s string) value        { return value{k: kString, s: s} }
func numStrVal(s string) value     { return value{k: kNumString, s: s} }
func (v value) isString() bool     { return v.k == kString }
func (v value) isNumberKind() bool { return v.k == kNumber }

// makeStr is make_str: a result string is numeric when it starts with a
// digit, '-' or '.' and holds only digits and dots (so "-5" is a string).
func makeStr(s string) value {
	isint := s != "" && (isDigit(s[0]) || s[0] == '-' || s[0] == '.')
	for i := 0; isint && i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			isint = false
		}
	}
	if isint {
		return numStrVal(s)
	}
	return strVal(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// toNumber is to_number: numbers stay, numeric strings convert, strings
// fail.
func (v value) toNumber() (float64, bool) {
	switch v.k {
	case kNumber:
		return v.n, true
	case kNumString:
		return strtod(v.s), true
	}
	return 0, false
}

// String is the printed value: strings as they are, numbers as %.18Lg.
func (v value) String() string {
	if v.k == kNumber {
		return formatNumber(v.n)
	}
	return v.s
}

// str is to_string.
func (v value) str() string { return v.String() }

// isZeroOrNull is is_zero_or_null.
func (v value) isZeroOrNull() bool {
	if v.k == kNumber {
		return v.n == 0
	}
	if v.s == "" {
		return true
	}
	n, ok := v.toNumber()
	return ok && n == 0
}

// stripQuotes is strip_quotes: a string starting and ending with '"' loses
// every '"' in it.
func stripQuotes(s string) string {
	if len(s) >= 1 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s, `"`, "")
	}
	return s
}

// strtod parses the longest prefix of s that is a decimal float, as C's
// strtod does; no number gives 0.
func strtod(s string) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f') {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			end = k
		}
	}
	f, err := strconv.ParseFloat(s[start:end], 64)
	if err != nil {
		// Out of range: ParseFloat still returns ±Inf or 0.
		return f
	}
	return f
}

// atoi is C's atoi: leading blanks, a sign, digits; anything else stops it.
func atoi(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for i < len(s) && isDigit(s[i]) {
		if n < math.MaxInt64/10 {
			n = n*10 + int64(s[i]-'0')
		}
		i++
	}
	if neg {
		return -n
	}
	return n
}

// formatNumber prints f as Asterisk's "%.18Lg" does for the values a
// double can hold exactly: integers below 2^53 in full, other values
// rounded to 15 significant digits (so 0.1+0.2 prints 0.3, as Asterisk's
// long double arithmetic does), exponent notation below 1e-4 or from 1e18.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 && math.Abs(f) < 1e18 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	// Round to 15 significant digits and find the decimal exponent.
	e := strconv.FormatFloat(f, 'e', 14, 64) // d.dddddddddddddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 18 {
		mant = trimZeros(mant)
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	// Fixed notation with 15 significant digits.
	prec := 14 - exp
	if prec < 0 {
		prec = 0
	}
	return trimZeros(strconv.FormatFloat(f, 'f', prec, 64))
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
