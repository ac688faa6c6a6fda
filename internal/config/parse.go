package config

import (
	"bytes"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// maxNestedComments is Asterisk's MAX_NESTED_COMMENTS.
const maxNestedComments = 128

// blanks are the characters ast_strip removes (C isspace).
const blanks = " \t\n\v\f\r"

func trim(s string) string { return strings.Trim(s, blanks) }

type parser struct {
	o     options
	file  *File
	diags Diags
	stack []string // keys of the files being read, outermost first
}

func parse(name string, data []byte, o options) (*File, []Diag, error) {
	if o.maxDepth <= 0 {
		o.maxDepth = DefaultMaxIncludeDepth
	}
	p := &parser{o: o, file: &File{Path: name}}
	p.stack = []string{o.res.key(name)}
	var cur *Section
	if err := p.parseData(name, data, nil, &cur); err != nil {
		return nil, p.diags.List(), err
	}
	return p.file, p.diags.List(), nil
}

// commentState is the block comment nesting, which carries across lines.
type commentState struct {
	nest []int // line where each open ";--" started
}

// parseData parses one file. cur is the section variables go to; an included
// file starts in the includer's current section, and what it changes cur to
// does not leak back to the includer (Asterisk keeps a per-file category).
func (p *parser) parseData(name string, data []byte, from *Pos, cur **Section) error {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var st commentState
	lineno := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineno++
		pos := Pos{File: name, Line: lineno, IncludedFrom: from}
		text, ok := p.stripComments(line, &st, pos)
		if !ok {
			continue
		}
		if text = trim(text); text == "" {
			continue
		}
		if err := p.line(text, pos, cur); err != nil {
			return err
		}
	}
	if n := len(st.nest); n > 0 {
		p.diags.Warnf(Pos{File: name, Line: st.nest[n-1], IncludedFrom: from}, "unterminated block comment")
	}
	return nil
}

// stripComments removes ';' comments and ";-- --;" block comments from one
// line, mirroring the scanner in config_text_file_load. It reports false when
// the whole line is inside a block comment.
func (p *parser) stripComments(line []byte, st *commentState, pos Pos) (string, bool) {
	if bytes.IndexByte(line, ';') < 0 {
		return string(line), len(st.nest) == 0
	}
	out := make([]byte, 0, len(line))
	have := len(st.nest) == 0
	newBuf := 0 // where Asterisk's scan resumes; escapes and "--;" look no further back
	for i := 0; i < len(line); {
		c := line[i]
		if c != ';' {
			if len(st.nest) == 0 {
				out = append(out, c)
			}
			i++
			continue
		}
		switch {
		case i > newBuf && line[i-1] == '\\':
			// "\;" is a literal semicolon; the backslash was copied last.
			if len(st.nest) == 0 && len(out) > 0 {
				out[len(out)-1] = ';'
			}
			i++
			newBuf = i
		case i+2 < len(line) && line[i+1] == '-' && line[i+2] == '-' && (i+3 == len(line) || line[i+3] != '-'):
			// ";--" opens a (nested) block comment; ";---" is a plain comment.
			if len(st.nest) < maxNestedComments {
				st.nest = append(st.nest, pos.Line)
				i += 3
			} else {
				p.diags.Warnf(pos, "block comments nested deeper than %d", maxNestedComments)
				i++
			}
			newBuf = i
		case len(st.nest) > 0 && i >= newBuf+2 && line[i-1] == '-' && line[i-2] == '-':
			// "--;" closes one level.
			st.nest = st.nest[:len(st.nest)-1]
			i++
			newBuf = i
			if len(st.nest) == 0 {
				have = true
			}
		default:
			if len(st.nest) == 0 {
				// A plain comment runs to the end of the line.
				return string(out), have
			}
			i++
			newBuf = i
		}
	}
	return string(out), have
}

func (p *parser) line(text string, pos Pos, cur **Section) error {
	switch text[0] {
	case '[':
		return p.header(text, pos, cur)
	case '#':
		return p.directive(text, pos, cur)
	default:
		return p.variable(text, pos, cur)
	}
}

// header handles "[name]" and "[name](options)".
func (p *parser) header(text string, pos Pos, cur **Section) error {
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return Errorf(pos, "no closing ']' in section header %q", text)
	}
	name := text[1:end]
	rest := text[end+1:]
	if name == "" {
		p.diags.Warnf(pos, "empty section name")
	}
	sec := &Section{Name: name, Pos: pos}
	target := sec // where the following variables go
	isNew := true // sec is still to be added (not merged by "+")
	if rest != "" {
		if rest[0] != '(' {
			p.diags.Warnf(pos, "ignoring %q after section header [%s]", rest, name)
		} else {
			closing := strings.IndexByte(rest, ')')
			if closing < 0 {
				return Errorf(pos, "no closing ')' in section header %q", text)
			}
			if extra := trim(rest[closing+1:]); extra != "" {
				p.diags.Warnf(pos, "ignoring %q after section header [%s]", extra, name)
			}
			for _, opt := range strings.Split(rest[1:closing], ",") {
				opt = trim(opt)
				switch {
				case opt == "!":
					target.Template = true
				case opt == "":
					p.diags.Warnf(pos, "empty item in the options of [%s]", name)
				case opt[0] == '+':
					existing := p.findAppendTarget(name, opt[1:], pos)
					if existing == nil {
						return Errorf(pos, "[%s](%s): cannot append to section %q: it does not exist", name, opt, name)
					}
					if isNew {
						existing.Template = existing.Template || sec.Template
						existing.Vars = append(existing.Vars, sec.Vars...)
						isNew = false
					}
					target = existing
				default:
					base := p.findSection(opt)
					if base == nil {
						return Errorf(pos, "[%s] inherits from %q, which does not exist", name, opt)
					}
					target.Inherits = append(target.Inherits, base.Name)
					for _, v := range base.Vars {
						v.Inherited = true
						target.Vars = append(target.Vars, v)
					}
				}
			}
		}
	}
	if isNew {
		p.file.Sections = append(p.file.Sections, sec)
	}
	*cur = target
	return nil
}

// findSection returns the first section called name, templates included,
// as inheritance looks it up ("TEMPLATES=include").
func (p *parser) findSection(name string) *Section {
	for _, s := range p.file.Sections {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// findAppendTarget returns the first section called name that matches the
// "+" filter: empty means the first non-template; otherwise '&'-separated
// name=value pairs of unanchored regular expressions, plus
// TEMPLATES=include|restrict, as does_category_match.
func (p *parser) findAppendTarget(name, filter string, pos Pos) *Section {
	for _, s := range p.file.Sections {
		if strings.EqualFold(s.Name, name) && p.matchFilter(s, filter, pos) {
			return s
		}
	}
	return nil
}

func (p *parser) matchFilter(s *Section, filter string, pos Pos) bool {
	if trim(filter) == "" {
		return !s.Template
	}
	expressions, found := 0, 0
	templateOK := false
	for _, nvp := range strings.Split(filter, "&") {
		expressions++
		mname, rest, ok := strings.Cut(trim(nvp), "=")
		if !ok {
			break
		}
		mname = trim(mname)
		mvalue, _, _ := strings.Cut(rest, "=")
		mvalue = trim(mvalue)
		if mname == "TEMPLATES" {
			switch strings.ToLower(mvalue) {
			case "include":
				if s.Template {
					templateOK = true
				}
				found++
			case "restrict":
				if !s.Template {
					return false
				}
				found++
				templateOK = true
			}
			continue
		}
		reName, err1 := regexp.Compile(mname)
		reValue, err2 := regexp.Compile(mvalue)
		if err := errors.Join(err1, err2); err != nil {
			p.diags.Warnf(pos, "bad section filter %q: %v", nvp, err)
			return false
		}
		for _, v := range s.Vars {
			if reName.MatchString(v.Name) && reValue.MatchString(v.Value) {
				found++
				break
			}
		}
	}
	return found == expressions && (!s.Template || templateOK)
}

// directive handles #include, #tryinclude and #exec.
func (p *parser) directive(text string, pos Pos, cur **Section) error {
	body := text[1:]
	i := 0
	for i < len(body) && body[i] > ' ' {
		i++
	}
	word, arg := body[:i], trim(body[i:])
	try := false
	switch strings.ToLower(word) {
	case "include":
	case "tryinclude":
		try = true
	case "exec":
		p.diags.Warnf(pos, "#exec is not supported; ignoring %q", arg)
		return nil
	default:
		p.diags.Warnf(pos, "unknown directive #%s", word)
		return nil
	}
	if arg == "" {
		p.diags.Warnf(pos, "#%s needs a file name", word)
		return nil
	}
	if n := len(arg); n >= 2 && ((arg[0] == '"' && arg[n-1] == '"') || (arg[0] == '<' && arg[n-1] == '>')) {
		arg = arg[1 : n-1]
	}
	if arg == "" {
		p.diags.Warnf(pos, "#%s needs a file name", word)
		return nil
	}
	return p.include(arg, try, pos, *cur)
}

func (p *parser) include(name string, try bool, pos Pos, cur *Section) error {
	files, err := p.o.res.expand(name)
	if err != nil {
		return Errorf(pos, "#include %q: %v", name, err)
	}
	site := pos
	sec := cur // a glob's files share one current section, as in Asterisk
	count := 0
	for _, fn := range files {
		data, err := p.o.res.read(fn)
		switch {
		case errors.Is(err, errNotRegular):
			p.diags.Warnf(pos, "#include: %s is not a regular file, ignoring it", fn)
			continue
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return Errorf(pos, "#include %q: %v", name, err)
		}
		key := p.o.res.key(fn)
		if slices.Contains(p.stack, key) {
			return Errorf(pos, "#include loop: %s is already being read", fn)
		}
		if len(p.stack) >= p.o.maxDepth {
			return Errorf(pos, "#include %s: files nested more than %d deep", fn, p.o.maxDepth)
		}
		count++
		p.stack = append(p.stack, key)
		err = p.parseData(fn, data, &site, &sec)
		p.stack = p.stack[:len(p.stack)-1]
		if err != nil {
			return err
		}
	}
	if count == 0 && !try {
		return Errorf(pos, "#include %q: no such file (use #tryinclude for an optional file)", name)
	}
	return nil
}

// variable handles "name = value", "name => value" and "name += more".
func (p *parser) variable(text string, pos Pos, cur **Section) error {
	if *cur == nil {
		return Errorf(pos, "%q is not inside any [section]", text)
	}
	sec := *cur
	s := text
	esc := 0
	if s[0] == '\\' {
		// "\x..." lets a name start with '[', '#' or '\'.
		s = s[1:]
		if s == "" || s[0] < '!' {
			return Errorf(pos, "invalid escape at the start of %q", text)
		}
		esc = 1
	}
	eq := strings.IndexByte(s[esc:], '=')
	if eq < 0 {
		p.diags.Warnf(pos, "no '=' in line %q", text)
		return nil
	}
	eq += esc
	if eq > esc && s[eq-1] == '+' {
		name := trim(s[:eq-1])
		more := s[eq+1:]
		for i := len(sec.Vars) - 1; i >= 0; i-- {
			if sec.Vars[i].Name == name {
				sec.Vars[i].Value = trim(sec.Vars[i].Value + more)
				return nil
			}
		}
		return p.addVar(sec, name, more, false, pos)
	}
	name, value := trim(s[:eq]), s[eq+1:]
	arrow := false
	if strings.HasPrefix(value, ">") {
		arrow = true
		value = value[1:]
	}
	return p.addVar(sec, name, value, arrow, pos)
}

func (p *parser) addVar(sec *Section, name, value string, arrow bool, pos Pos) error {
	if name == "" {
		p.diags.Warnf(pos, "no variable name before '='")
		return nil
	}
	sec.Vars = append(sec.Vars, Var{Name: name, Value: trim(value), Pos: pos, Arrow: arrow})
	return nil
}
