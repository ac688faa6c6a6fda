package dialplan

import "strings"

// This file ports the extension comparison and matching of Asterisk's
// main/pbx.c: ext_cmp (the sort order that decides which pattern wins) and
// _extension_match_core.

// matchMode is ext_match_t.
type matchMode int

const (
	matchMore  matchMode = iota // E_MATCHMORE: could match with more digits
	canMatch                    // E_CANMATCH: matches now or with more digits
	matchExact                  // E_MATCH
)

// stripFluff removes the '-' separators ("555-1212") outside [] sets, as
// ext_strncpy does when an extension is added.
func stripFluff(s string) string {
	if !strings.Contains(s, "-") {
		return s
	}
	var b strings.Builder
	pattern := len(s) > 0 && s[0] == '_'
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pattern && c == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j+1])
			i += j
			continue
		}
		if c == '-' {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// shrinkPhoneNumber is ast_shrink_phone_number, applied to caller-ID
// match strings: it drops '(', ')', ' ', a '-' outside [] and a '.' that
// is not last.
func shrinkPhoneNumber(n string) string {
	var b strings.Builder
	bracketed := 0
	for i := 0; i < len(n); i++ {
		switch c := n[i]; c {
		case '[':
			bracketed++
			b.WriteByte(c)
		case ']':
			bracketed--
			b.WriteByte(c)
		case '-':
			if bracketed > 0 {
				b.WriteByte(c)
			}
		case '.':
			if i+1 == len(n) {
				b.WriteByte(c)
			}
		case '(', ')', ' ':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Special values of cmpPatternPos, as in pbx.c.
const (
	posDot   = 0x18000 // '.': one or more of anything
	posBang  = 0x28000 // '!': zero or more
	posEnd   = 0x30000 // end of the pattern
	posError = 0x40000 // unterminated [
)

// cmpPatternPos scores the pattern element at p[*i] and fills bits with
// the characters it matches: bits 0-7 of the score are the first character
// of the set, bits 8-15 its size, so smaller sets sort first; '.' and '!'
// sort after every set, the end of the pattern last.
func cmpPatternPos(p string, i *int, bits *[32]byte, ended *bool) int {
	for *i < len(p) && p[*i] == ' ' {
		*i++
	}
	if *i >= len(p) {
		*ended = true
		return posEnd
	}
	c := p[*i]
	*i++
	switch c {
	case 'n', 'N':
		bits[6], bits[7] = 0x3f, 0xc0
		return 0x0800 | '2'
	case 'x', 'X':
		bits[6], bits[7] = 0xff, 0xc0
		return 0x0A00 | '0'
	case 'z', 'Z':
		bits[6], bits[7] = 0x7f, 0xc0
		return 0x0900 | '1'
	case '.':
		return posDot
	case '!':
		return posBang
	case '[':
	default:
		bits[c/8] = 1 << (7 - c%8)
		return 0x0100 | int(c)
	}
	end := strings.IndexByte(p[*i:], ']')
	if end < 0 {
		*i = len(p)
		return posError
	}
	end += *i
	count := 0
	cmin := 0xff
	for ; *i < end; *i++ {
		c1 := p[*i]
		c2 := c1
		if *i+2 < end && p[*i+1] == '-' {
			c2 = p[*i+2]
			*i += 2
		}
		if int(c1) < cmin {
			cmin = int(c1)
		}
		for x := int(c1); x <= int(c2); x++ {
			mask := byte(1) << (7 - x%8)
			if bits[x/8]&mask == 0 {
				bits[x/8] |= mask
				count += 0x100
			}
		}
	}
	*i = end + 1
	if count == 0 {
		return posEnd
	}
	return count | cmin
}

// cmpPattern is ext_cmp_pattern on two patterns without their '_'.
func cmpPattern(left, right string) int {
	li, ri := 0, 0
	for {
		var lb, rb [32]byte
		var lEnd, rEnd bool
		lp := cmpPatternPos(left, &li, &lb, &lEnd)
		rp := cmpPatternPos(right, &ri, &rb, &rEnd)
		cmp := lp - rp
		if cmp == 0 {
			// Same score: the set with the lower characters first.
			for k := range lb {
				if d := int(rb[k]) - int(lb[k]); d != 0 {
					cmp = d
					break
				}
			}
		}
		if cmp != 0 {
			return cmp
		}
		if lEnd {
			return 0
		}
	}
}

// cmpExten is ext_cmp_exten: byte comparison ignoring '-'.
func cmpExten(left, right string) int {
	i, j := 0, 0
	for {
		for i < len(left) && left[i] == '-' {
			i++
		}
		for j < len(right) && right[j] == '-' {
			j++
		}
		var l, r int
		if i < len(left) {
			l = int(left[i])
		}
		if j < len(right) {
			r = int(right[j])
		}
		if l != r {
			return l - r
		}
		if i >= len(left) {
			return 0
		}
		i++
		j++
	}
}

// cmpExtenPartial is ext_cmp_exten_partial: 0 when right is a prefix of
// left, ignoring '-'.
func cmpExtenPartial(left, right string) int {
	i, j := 0, 0
	for {
		for i < len(left) && left[i] == '-' {
			i++
		}
		for j < len(right) && right[j] == '-' {
			j++
		}
		if j >= len(right) {
			return 0
		}
		var l int
		if i < len(left) {
			l = int(left[i])
		}
		if d := l - int(right[j]); d != 0 {
			return d
		}
		i++
		j++
	}
}

func extenLen(s string) int { return len(s) - strings.Count(s, "-") }

// extCmp is ext_cmp, the order of extensions in a context: non-patterns
// first (in byte order), then patterns from the most to the least specific.
func extCmp(left, right string) int {
	lp := len(left) > 0 && left[0] == '_'
	rp := len(right) > 0 && right[0] == '_'
	switch {
	case !lp && rp:
		return -1
	case lp && !rp:
		return 1
	case !lp:
		return cmpExten(left, right)
	}
	return cmpPattern(left[1:], right[1:])
}

// extMatch is _extension_match_core: 0 no match, 1 match, 2 early match
// (a '!' was reached).
func extMatch(pattern, data string, mode matchMode) int {
	if len(pattern) == 0 || pattern[0] != '_' {
		lp, ld := extenLen(pattern), extenLen(data)
		if lp < ld {
			return 0
		}
		if mode == matchExact {
			if cmpExten(pattern, data) == 0 {
				return 1
			}
			return 0
		}
		if ld == 0 || cmpExtenPartial(pattern, data) == 0 {
			if mode == matchMore {
				if lp > ld {
					return 1
				}
				return 0
			}
			return 1
		}
		return 0
	}
	if mode == matchExact && len(data) > 0 && data[0] == '_' && cmpPattern(pattern[1:], data[1:]) == 0 {
		return 1
	}
	p := pattern[1:]
	d := data
	pi, di := 0, 0
	for di < len(d) && pi < len(p) && p[pi] != '/' {
		if d[di] == '-' { // '-' in the data is a separator
			di++
			continue
		}
		c := d[di]
		switch upper(p[pi]) {
		case '[':
			end := strings.IndexByte(p[pi+1:], ']')
			if end < 0 {
				return 0 // "Wrong usage of [] in the extension"
			}
			end += pi + 1
			found := false
			for k := pi + 1; k < end; k++ {
				if k+2 < end && p[k+1] == '-' {
					if c >= p[k] && c <= p[k+2] {
						found = true
						break
					}
					k += 2
					continue
				}
				if c == p[k] {
					found = true
					break
				}
			}
			if !found {
				return 0
			}
			pi = end
		case 'N':
			if c < '2' || c > '9' {
				return 0
			}
		case 'X':
			if c < '0' || c > '9' {
				return 0
			}
		case 'Z':
			if c < '1' || c > '9' {
				return 0
			}
		case '.':
			return 1
		case '!':
			return 2
		case ' ', '-':
			di-- // ignored in patterns
		default:
			if c != p[pi] {
				return 0
			}
		}
		di++
		pi++
	}
	if di < len(d) {
		return 0 // the data is longer than the pattern
	}
	switch {
	case pi >= len(p) || p[pi] == '/':
		if mode == matchMore {
			return 0
		}
		return 1
	case p[pi] == '!':
		return 2
	}
	if mode == matchExact {
		return 0
	}
	return 1 // the data is a prefix of what the pattern matches
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// matchCID is matchcid: an empty caller ID matches only an empty pattern.
func matchCID(pattern, callerID string) bool {
	if callerID == "" {
		return pattern == ""
	}
	return extMatch(pattern, callerID, matchExact) != 0
}

// ExtensionMatch reports whether the dialled string exten matches the
// extension or pattern name, as Asterisk's ast_extension_match.
func ExtensionMatch(name, exten string) bool {
	return extMatch(stripFluff(name), exten, matchExact) != 0
}
