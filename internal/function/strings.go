package function

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/expr"
)

func init() {
	// LEN(string): the length in bytes.
	simple("LEN", func(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
		return strconv.Itoa(len(args)), nil
	})
	// ISNULL(data): 1 when data is empty.
	simple("ISNULL", func(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
		if args == "" {
			return "1", nil
		}
		return "0", nil
	})
	// EXISTS(data): 1 when data is not empty.
	simple("EXISTS", func(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
		if args != "" {
			return "1", nil
		}
		return "0", nil
	})
	simple("IF", ifFunc)
	simple("CUT", cut)
	simple("REGEX", regexFunc)
}

// ifFunc is IF(expr?[true][:false]): expr is true as GotoIf reads it.
func ifFunc(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
	a1 := app.Split(args, '?', 2, false)
	var cond string
	var a2 []string
	if len(a1) > 0 {
		cond = a1[0]
	}
	if len(a1) > 1 {
		a2 = app.Split(a1[1], ':', 2, false)
	}
	if cond == "" || len(a2) == 0 {
		return "", fmt.Errorf("%w: syntax IF(<expr>?[<true>][:<false>])", ErrUsage)
	}
	iftrue := strings.TrimSpace(a2[0])
	iffalse := ""
	if len(a2) > 1 {
		iffalse = strings.TrimSpace(a2[1])
	}
	if expr.IsTrue(strings.TrimSpace(cond)) {
		return iftrue, nil
	}
	return iffalse, nil
}

// cut is CUT(varname,delimiter,fields): fields is a list of numbers and
// ranges joined by '&' ("2", "2-4", "-3", "3-", "1&3").
func cut(ctx context.Context, env *Env, ch *channel.Channel, args string) (string, error) {
	a := app.SplitArgsN(args, 3)
	if len(a) < 3 {
		return "", fmt.Errorf("%w: syntax CUT(<varname>,<char-delim>,<range-spec>)", ErrUsage)
	}
	value := env.Vars.Expand(ctx, ch, "${"+a[0]+"}")
	delim, ok := encodedChar(a[1])
	if !ok {
		delim = '-'
	}
	ds := string([]byte{delim})
	if value == "" {
		return "", nil
	}
	fields := strings.Split(value, ds)
	cur := 0 // index of the next field not consumed
	var out []string
	for _, rng := range strings.Split(a[2], "&") {
		start, stop, ok := parseFieldRange(rng)
		if !ok {
			return "", fmt.Errorf("%w: CUT: invalid field spec %q", ErrUsage, rng)
		}
		for cur < len(fields) && cur+1 < start {
			cur++
		}
		for cur < len(fields) && cur+1 <= stop {
			out = append(out, fields[cur])
			cur++
		}
	}
	return strings.Join(out, ds), nil
}

// parseFieldRange reads "a-b", "-b", "a-" or "a" as func_cut's sscanf
// chain does.
func parseFieldRange(s string) (start, stop int, ok bool) {
	if a, b, found := strings.Cut(s, "-"); found {
		if a == "" {
			n, ok := scanInt(b)
			return 1, n, ok
		}
		x, ok1 := scanInt(a)
		if !ok1 {
			return 0, 0, false
		}
		if y, ok2 := scanInt(b); ok2 {
			return x, y, true
		}
		return x, math.MaxInt, true
	}
	n, ok := scanInt(s)
	return n, n, ok
}

// scanInt is sscanf("%d"): leading blanks, sign, digits, rest ignored.
func scanInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t")
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil {
		return 0, false
	}
	return n, true
}

// encodedChar is ast_get_encoded_char: one character, or a backslash
// escape (\n \r \t \a \b \f \v \\ \xHH \0ooo).
func encodedChar(s string) (byte, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] != '\\' || len(s) == 1 {
		return s[0], true
	}
	switch c := s[1]; c {
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'a':
		return '\a', true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'v':
		return '\v', true
	case 'x':
		if n, err := strconv.ParseUint(prefixFunc(s[2:], 2, isHex), 16, 8); err == nil {
			return byte(n), true
		}
		return 0, false
	case '0':
		digits := prefixFunc(s[2:], 3, func(b byte) bool { return b >= '0' && b <= '7' })
		if digits == "" {
			return 0, true
		}
		n, err := strconv.ParseUint(digits, 8, 8)
		return byte(n), err == nil
	default:
		return c, true
	}
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func prefixFunc(s string, max int, ok func(byte) bool) string {
	i := 0
	for i < len(s) && i < max && ok(s[i]) {
		i++
	}
	return s[:i]
}

// regexFunc is REGEX("regular expression" string): 1 on a match.
func regexFunc(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
	a := app.Split(args, '"', 3, false)
	if len(a) != 3 {
		return "", fmt.Errorf(`%w: syntax REGEX("<regular expression>" <string>)`, ErrUsage)
	}
	str := a[2]
	if str != "" && (str[0] == ' ' || str[0] == '\t') {
		str = str[1:]
	}
	re, err := regexp.CompilePOSIX(a[1])
	if err != nil {
		return "", fmt.Errorf("%w: REGEX: %v", ErrUsage, err)
	}
	if re.MatchString(str) {
		return "1", nil
	}
	return "0", nil
}
