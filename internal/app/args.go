package app

import (
	"errors"
	"strings"
)

// SplitArgs splits application arguments on commas as Asterisk's
// AST_STANDARD_APP_ARGS does: commas inside (), [] or "" do not split,
// double quotes are removed and a backslash makes the next character
// literal. "" gives no arguments; "a," gives "a" and "".
func SplitArgs(s string) []string { return Split(s, ',', 0, false) }

// SplitArgsN is SplitArgs for an application that declares n arguments:
// once n-1 are split off, the last one keeps the rest of the string as it
// is, commas, quotes and backslashes included (Verbose(1,a,b) logs "a,b").
func SplitArgsN(s string, n int) []string { return Split(s, ',', n, false) }

// Split is __ast_app_separate_args: it splits s on delim outside (), []
// and "" (unless delim is '"'). With raw false it removes quotes and the
// backslash of escapes (AST_STANDARD_APP_ARGS); with raw true it keeps
// them (AST_STANDARD_RAW_ARGS, what Gosub uses for its arguments). n > 0
// limits the count: the n-th argument is the unparsed remainder.
func Split(s string, delim byte, n int, raw bool) []string {
	if s == "" {
		return nil
	}
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 {
		return splitPlain(s, delim, n)
	}
	return splitQuoted(s, delim, n, raw)
}

// splitPlain is Split for a string without quotes or backslashes, where
// every argument is a substring of s as it is (raw or not): no copy of s
// and no byte-by-byte building of each argument, which Dial's arguments
// went through on every call.
func splitPlain(s string, delim byte, n int) []string {
	var out []string
	paren, bracket := 0, 0
	scan := 0
	wasDelim := -1
	for scan < len(s) && (n <= 0 || len(out) < n-1) {
		start, end := scan, -1
		for scan < len(s) {
			c := s[scan]
			switch {
			case nest(c, &paren, &bracket):
			case c == delim && paren == 0 && bracket == 0:
				end, wasDelim = scan, scan
				scan++
			}
			if end >= 0 {
				break
			}
			scan++
		}
		if end < 0 {
			end = scan
		}
		out = append(out, s[start:end])
	}
	if scan < len(s) || (scan > 0 && scan-1 == wasDelim) {
		out = append(out, s[scan:])
	}
	return out
}

// nest counts c into the depth of () and [] that keeps a delimiter from
// splitting, and reports whether c was one of those.
func nest(c byte, paren, bracket *int) bool {
	switch c {
	case '(':
		*paren++
	case ')':
		if *paren > 0 {
			*paren--
		}
	case '[':
		*bracket++
	case ']':
		if *bracket > 0 {
			*bracket--
		}
	default:
		return false
	}
	return true
}

// splitQuoted is Split for a string with quotes or backslashes.
func splitQuoted(s string, delim byte, n int, raw bool) []string {
	var out []string
	buf := []byte(s)
	paren, bracket := 0, 0
	quote := false
	scan := 0
	wasDelim := -1
	for scan < len(buf) && (n <= 0 || len(out) < n-1) {
		var cur []byte
		for scan < len(buf) {
			c := buf[scan]
			switch {
			case nest(c, &paren, &bracket):
			case c == '"' && delim != '"':
				quote = !quote
				if !raw {
					scan++
					continue
				}
			case c == '\\':
				if !raw {
					scan++
					if scan < len(buf) {
						cur = append(cur, buf[scan])
						scan++
					}
					continue
				}
				cur = append(cur, c)
				scan++
				if scan < len(buf) {
					cur = append(cur, buf[scan])
					scan++
				}
				continue
			case c == delim && paren == 0 && !quote && bracket == 0:
				wasDelim = scan
				scan++
				goto done
			}
			cur = append(cur, c)
			scan++
		}
	done:
		out = append(out, string(cur))
	}
	if scan < len(buf) || (scan > 0 && scan-1 == wasDelim) {
		out = append(out, string(buf[scan:]))
	}
	return out
}

// Target is a dialplan location as Goto and Gosub write it:
// [[context,]exten,]priority. Empty fields mean "where the channel is";
// Priority is a number, a label, or +n/-n relative to the current one.
type Target struct {
	Context, Exten, Priority string
}

// String formats t as it would be written.
func (t Target) String() string {
	switch {
	case t.Context != "":
		return t.Context + "," + t.Exten + "," + t.Priority
	case t.Exten != "":
		return t.Exten + "," + t.Priority
	}
	return t.Priority
}

// ErrNoTarget is returned by ParseTarget for an empty location.
var ErrNoTarget = errors.New("requires an argument ([[context,]extension,]priority)")

// ParseTarget reads "[[context,]exten,]priority" as pbx_parseable_goto
// does: plain comma splitting, a fourth field is ignored.
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, ErrNoTarget
	}
	parts := strings.SplitN(s, ",", 4)
	switch len(parts) {
	case 1:
		return Target{Priority: parts[0]}, nil
	case 2:
		return Target{Exten: parts[0], Priority: parts[1]}, nil
	}
	return Target{Context: parts[0], Exten: parts[1], Priority: parts[2]}, nil
}

// ParseSubTarget reads Gosub's "[[context,]exten,]priority[(arg1[,...])]":
// the arguments are split raw (quotes kept), as app_stack does.
func ParseSubTarget(s string) (Target, []string, error) {
	label, rest, hasArgs := strings.Cut(s, "(")
	var args []string
	if hasArgs {
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[:i]
		}
		args = Split(rest, ',', 0, true)
	}
	t, err := ParseTarget(label)
	return t, args, err
}
