package sipauth

import (
	"errors"
	"fmt"
	"strings"
)

// Authorization holds the parameters of a Digest Authorization or
// Proxy-Authorization header value (RFC 3261 §25.1 credentials, RFC 7616
// §3.4). Values are unquoted and unescaped; absent parameters are empty.
type Authorization struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	CNonce    string
	Opaque    string
	QOP       string
	NC        string
	Userhash  string
}

// Parameter names in the order of the Authorization fields.
var authParamNames = [...]string{
	"username", "realm", "nonce", "uri", "response", "algorithm",
	"cnonce", "opaque", "qop", "nc", "userhash",
}

func (a *Authorization) field(i int) *string {
	switch i {
	case 0:
		return &a.Username
	case 1:
		return &a.Realm
	case 2:
		return &a.Nonce
	case 3:
		return &a.URI
	case 4:
		return &a.Response
	case 5:
		return &a.Algorithm
	case 6:
		return &a.CNonce
	case 7:
		return &a.Opaque
	case 8:
		return &a.QOP
	case 9:
		return &a.NC
	case 10:
		return &a.Userhash
	}
	return nil
}

var errNotDigest = errors.New("not a Digest scheme")

// ParseAuthorization parses a Digest credentials header value such as
// `Digest username="alice", realm="pbx", nc=00000001, ...`. The scheme and
// parameter names are case-insensitive; parameters may come in any order,
// quoted (with backslash escapes) or as bare tokens, separated by commas and
// optional whitespace; unknown parameters are ignored; a repeated known
// parameter is an error. It allocates only to unescape quoted strings that
// contain backslashes.
func ParseAuthorization(value string) (Authorization, error) {
	var a Authorization
	err := parseAuthorization(value, &a)
	return a, err
}

func parseAuthorization(s string, a *Authorization) error {
	s = trimLWS(s)
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if !strings.EqualFold(s[:i], "Digest") {
		return fmt.Errorf("sipauth: parse: %w", errNotDigest)
	}
	if i < len(s) && !isLWS(s[i]) {
		return fmt.Errorf("sipauth: parse: bad character %q after scheme", s[i])
	}
	var seen uint32
	for {
		// Skip whitespace and empty list elements (RFC 3261 §7.3.1 #rule).
		for i < len(s) && (isLWS(s[i]) || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return nil
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return fmt.Errorf("sipauth: parse: bad character %q at offset %d", s[i], i)
		}
		i = skipLWS(s, i)
		if i == len(s) || s[i] != '=' {
			return fmt.Errorf("sipauth: parse: parameter %q has no value", name)
		}
		i = skipLWS(s, i+1)
		var val string
		if i < len(s) && s[i] == '"' {
			var err error
			val, i, err = quotedString(s, i)
			if err != nil {
				return fmt.Errorf("sipauth: parse: parameter %q: %w", name, err)
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' && s[i] != '"' && !isLWS(s[i]) {
				i++
			}
			val = s[start:i]
			if val == "" {
				return fmt.Errorf("sipauth: parse: parameter %q has an empty value", name)
			}
		}
		i = skipLWS(s, i)
		if i < len(s) && s[i] != ',' {
			return fmt.Errorf("sipauth: parse: unexpected %q after parameter %q", s[i], name)
		}
		if k := paramIndex(name); k >= 0 {
			if seen&(1<<k) != 0 {
				return fmt.Errorf("sipauth: parse: repeated parameter %q", authParamNames[k])
			}
			seen |= 1 << k
			*a.field(k) = val
		}
	}
}

// paramIndex returns the index in authParamNames of the case-insensitive
// name, or -1.
func paramIndex(name string) int {
	var cand [3]int
	n := 0
	switch len(name) {
	case 2:
		cand[0], n = 9, 1
	case 3:
		cand[0], cand[1], n = 3, 8, 2
	case 5:
		cand[0], cand[1], n = 1, 2, 2
	case 6:
		cand[0], cand[1], n = 6, 7, 2
	case 8:
		cand[0], cand[1], cand[2], n = 0, 4, 10, 3
	case 9:
		cand[0], n = 5, 1
	}
	for _, k := range cand[:n] {
		if lettersEqualFold(name, authParamNames[k]) {
			return k
		}
	}
	return -1
}

// lettersEqualFold reports whether s equals lower, a lowercase ASCII word
// made of letters only, ignoring case.
func lettersEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// quotedString reads the quoted-string starting at s[i] == '"' and returns
// its unescaped contents and the offset after the closing quote.
func quotedString(s string, i int) (string, int, error) {
	start := i + 1
	escaped := false
	for i = start; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++ // skip the escaped character
		case '"':
			if escaped {
				return unescape(s[start:i]), i + 1, nil
			}
			return s[start:i], i + 1, nil
		}
	}
	return "", len(s), errors.New("unterminated quoted string")
}

func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// String formats a as a header value that ParseAuthorization reads back
// unchanged. Empty fields are left out.
func (a Authorization) String() string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString("Digest ")
	first := true
	for k, n := range authParamNames {
		v := *a.field(k)
		if v == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(n)
		b.WriteByte('=')
		switch n {
		case "algorithm", "qop", "nc", "userhash":
			// RFC 7616 sends these as tokens.
			if isToken(v) {
				b.WriteString(v)
				continue
			}
		}
		writeQuoted(&b, v)
	}
	return b.String()
}

func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c may appear in an RFC 3261 §25.1 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipLWS(s string, i int) int {
	for i < len(s) && isLWS(s[i]) {
		i++
	}
	return i
}

func trimLWS(s string) string {
	i, j := 0, len(s)
	for i < j && isLWS(s[i]) {
		i++
	}
	for j > i && isLWS(s[j-1]) {
		j--
	}
	return s[i:j]
}
