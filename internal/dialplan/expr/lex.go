package expr

// tokKind is a token of ast_expr2.fl.
type tokKind int

const (
	tEOF tokKind = iota
	tToken
	tOr
	tAnd
	tEq
	tNe
	tLt
	tGt
	tLe
	tGe
	tPlus
	tMinus
	tMult
	tDiv
	tMod
	tCompl
	tColon
	tEqTilde
	tTildeTilde
	tCond
	tColonColon
	tComma
	tLP
	tRP
)

var tokNames = [...]string{
	tEOF: "end of expression", tToken: "operand", tOr: "'|'", tAnd: "'&'", tEq: "'='",
	tNe: "'!='", tLt: "'<'", tGt: "'>'", tLe: "'<='", tGe: "'>='", tPlus: "'+'",
	tMinus: "'-'", tMult: "'*'", tDiv: "'/'", tMod: "'%'", tCompl: "'!'", tColon: "':'",
	tEqTilde: "'=~'", tTildeTilde: "'~~'", tCond: "'?'", tColonColon: "'::'",
	tComma: "','", tLP: "'('", tRP: "')'",
}

func (k tokKind) String() string { return tokNames[k] }

type token struct {
	kind tokKind
	pos  int
	val  value // for tToken
}

// lex splits s into tokens with flex's longest-match rule. Characters no
// rule matches are skipped, as flex's default rule does (it echoes them).
func lex(s string) []token {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case two == "${":
			i = scanVar(s, i)
			out = append(out, token{kind: tToken, pos: start, val: strVal(s[start:i])})
			continue
		case c == '"':
			if j := indexByteFrom(s, '"', i+1); j >= 0 {
				i = j + 1
				out = append(out, token{kind: tToken, pos: start, val: strVal(s[start:i])})
			} else {
				i++ // an unmatched quote matches no rule
			}
			continue
		case isWordByte(s, i):
			i = scanWord(s, i)
			word := s[start:i]
			if i+1 < len(s) && s[i] == '$' && s[i+1] == '{' {
				// word${...}: one token with the variable reference.
				i = scanVar(s, i)
				out = append(out, token{kind: tToken, pos: start, val: strVal(s[start:i])})
				continue
			}
			if isNumber(word) {
				out = append(out, token{kind: tToken, pos: start, val: numStrVal(word)})
			} else {
				out = append(out, token{kind: tToken, pos: start, val: strVal(word)})
			}
			continue
		}
		k, n := operator(s[i:])
		if n == 0 {
			i++ // no rule: skipped
			continue
		}
		out = append(out, token{kind: k, pos: start})
		i += n
	}
	return append(out, token{kind: tEOF, pos: len(s)})
}

func indexByteFrom(s string, c byte, from int) int {
	for j := from; j < len(s); j++ {
		if s[j] == c {
			return j
		}
	}
	return -1
}

// operator returns the longest operator at the start of s.
func operator(s string) (tokKind, int) {
	if len(s) >= 2 {
		switch s[:2] {
		case "||":
			return tOr, 2
		case "&&":
			return tAnd, 2
		case "==":
			return tEq, 2
		case "=~":
			return tEqTilde, 2
		case "~~":
			return tTildeTilde, 2
		case ">=":
			return tGe, 2
		case "<=":
			return tLe, 2
		case "!=":
			return tNe, 2
		case "::":
			return tColonColon, 2
		}
	}
	switch s[0] {
	case '|':
		return tOr, 1
	case '&':
		return tAnd, 1
	case '=':
		return tEq, 1
	case '>':
		return tGt, 1
	case '<':
		return tLt, 1
	case '+':
		return tPlus, 1
	case ',':
		return tComma, 1
	case '-':
		return tMinus, 1
	case '*':
		return tMult, 1
	case '/':
		return tDiv, 1
	case '%':
		return tMod, 1
	case '?':
		return tCond, 1
	case '!':
		return tCompl, 1
	case ':':
		return tColon, 1
	case '(':
		return tLP, 1
	case ')':
		return tRP, 1
	}
	return tEOF, 0
}

// isWordByte reports whether a word token can start at s[i]: the class
// [a-zA-Z0-9.';\\_^#@], bytes >= 0x80, or '$' followed by anything but '{'.
func isWordByte(s string, i int) bool {
	c := s[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	case c == '.', c == '\'', c == ';', c == '\\', c == '_', c == '^', c == '#', c == '@':
		return true
	case c == '$':
		return i+1 < len(s) && s[i+1] != '{'
	}
	return false
}

func scanWord(s string, i int) int {
	for i < len(s) && isWordByte(s, i) {
		if s[i] == '$' {
			i += 2
		} else {
			i++
		}
	}
	return i
}

// scanVar consumes "${...}" with nested braces, then the characters that may
// trail it up to the next operator or blank, chaining further "${...}", as
// the var and trail start conditions of ast_expr2.fl do.
func scanVar(s string, i int) int {
	for {
		i += 2 // "${"
		depth := 0
		for i < len(s) {
			c := s[i]
			i++
			if c == '{' {
				depth++
			} else if c == '}' {
				depth--
				if depth < 0 {
					break
				}
			}
		}
		for i < len(s) && !isTrailStop(s[i]) {
			i++
		}
		if i+1 < len(s) && s[i] == '$' && s[i+1] == '{' {
			continue
		}
		return i
	}
}

func isTrailStop(c byte) bool {
	switch c {
	case '-', '\t', '\r', ' ', '\n', '$', '(', ')', ':', '?', '%', '/', '+', '=', '*', '<', '>', '!', '|', '&':
		return true
	}
	return false
}

// isNumber reports whether s is [0-9]+(\.[0-9]+)?, the lexer's number rule.
func isNumber(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	j := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > j && i == len(s)
}
