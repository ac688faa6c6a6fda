package dialplan

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/lazylog"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/expr"
	"github.com/gopbx/gopbx/internal/function"
)

// maxSubstDepth is MAX_VARIABLE_SUB_RECURSE_DEPTH: how deep ${${...}}
// and $[${...}] may nest.
const maxSubstDepth = 15

// funcTable holds one engine's function instances by upper-case name.
type funcTable map[string]function.Function

// newFuncTable instantiates every registered function for an engine.
// Factories that fail are left out (and logged): their calls read as empty.
func newFuncTable(g *Globals, vars function.Expander, log *slog.Logger, now func() time.Time) funcTable {
	t := funcTable{}
	if vars == nil {
		vars = &staticExpander{globals: g, funcs: t}
	}
	for _, name := range function.Names() {
		f, canonical, _ := function.Lookup(name)
		inst, err := f(&function.Env{Globals: g, Vars: vars, Log: lazylog.With(log, slog.String("function", canonical)), Now: now})
		if err != nil {
			log.Error("dialplan function unavailable", "function", canonical, "error", err)
			continue
		}
		t[strings.ToUpper(canonical)] = inst
	}
	return t
}

// staticExpander substitutes without an engine (globals only), for the
// functions used while loading.
type staticExpander struct {
	globals *Globals
	funcs   funcTable
}

func (s *staticExpander) Expand(ctx context.Context, ch *channel.Channel, in string) string {
	x := &expander{ctx: ctx, ch: ch, globals: s.globals, funcs: s.funcs, now: time.Now}
	return x.expand(in, 0)
}

// expander performs pbx_substitute_variables_helper for one string.
type expander struct {
	ctx     context.Context
	ch      *channel.Channel // nil outside a call
	globals *Globals
	funcs   funcTable
	now     func() time.Time
	log     *slog.Logger // nil: do not log
}

func (x *expander) warn(msg string, args ...any) {
	if x.log != nil {
		x.log.Warn(msg, args...)
	}
}

// expand substitutes ${...} and $[...] in s.
func (x *expander) expand(s string, depth int) string {
	if !strings.Contains(s, "$") {
		return s
	}
	if depth >= maxSubstDepth {
		x.warn("variable substitution nested too deeply, possible infinite recursion in the dialplan", "text", s)
		return ""
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i+1 >= len(s) || (s[i+1] != '{' && s[i+1] != '[') {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		open := s[i+1]
		inner, rest, needsub, closed := scanBraces(s[i+2:], open)
		s = rest
		if !closed {
			if open == '{' {
				x.warn("error in extension logic (missing '}')", "text", inner)
			} else {
				x.warn("error in extension logic (missing ']')", "text", inner)
			}
		}
		if needsub {
			inner = x.expand(inner, depth+1)
		}
		if open == '{' {
			if v, ok := x.value(inner); ok {
				b.WriteString(v)
			}
			continue
		}
		res, err := expr.Eval(inner, x.exprFunc)
		if err != nil {
			x.warn("expression syntax error, result is 0", "expr", inner, "error", err)
		}
		b.WriteString(res)
	}
	return b.String()
}

// scanBraces finds the end of a ${...} (open '{') or $[...] (open '[')
// whose body starts s, as the scanning loop of pbx_substitute_variables:
// nested "${" and "$[" mark the body for recursive substitution.
func scanBraces(s string, open byte) (inner, rest string, needsub, closed bool) {
	other := byte('[')
	closeC := byte('}')
	if open == '[' {
		other, closeC = '{', ']'
	}
	depth := 1
	i := 0
	for depth > 0 && i < len(s) {
		c := s[i]
		switch {
		case c == '$' && i+1 < len(s) && s[i+1] == open:
			needsub = true
			depth++
			i++
		case c == open:
			depth++
		case c == closeC:
			depth--
		case c == '$' && i+1 < len(s) && s[i+1] == other:
			needsub = true
			i++
		}
		i++
	}
	if depth > 0 {
		return s[:i], s[i:], needsub, false
	}
	return s[:i-1], s[i:], needsub, true
}

// parseVariableName is parse_variable_name: it cuts ":offset:length" off
// at the first ':' outside parentheses and says whether a '(' was seen.
func parseVariableName(v string) (name string, offset, length int, sub, isFunc bool) {
	parens := 0
	length = int(^uint(0) >> 1)
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '(':
			isFunc = true
			parens++
		case ')':
			parens--
		case ':':
			if parens == 0 {
				rest := v[i+1:]
				if n, used, ok := scanInt(rest); ok {
					offset = n
					rest = rest[used:]
					if strings.HasPrefix(rest, ":") {
						if m, _, ok := scanInt(rest[1:]); ok {
							length = m
						}
					}
				}
				return v[:i], offset, length, true, isFunc
			}
		}
	}
	return v, 0, length, false, isFunc
}

// scanInt is sscanf("%d") returning how many bytes it used.
func scanInt(s string) (n, used int, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s[i:k])
	if err != nil {
		return 0, 0, false
	}
	return n, k, true
}

// substring is Asterisk's: a negative offset counts from the end, a
// negative length leaves that many characters off the end.
func substring(v string, offset, length int) string {
	lr := len(v)
	if offset == 0 && length >= lr {
		return v
	}
	if offset < 0 {
		offset += lr
		if offset < 0 {
			offset = 0
		}
	}
	if offset >= lr {
		return ""
	}
	v = v[offset:]
	switch {
	case length >= 0 && length < len(v):
		return v[:length]
	case length < 0:
		if len(v)+length > 0 {
			return v[:len(v)+length]
		}
		return ""
	}
	return v
}

// value reads the variable or function named by the body of ${...}.
func (x *expander) value(body string) (string, bool) {
	name, offset, length, _, isFunc := parseVariableName(body)
	var v string
	var ok bool
	if isFunc {
		v, ok = x.callFunc(name)
	} else {
		v, ok = x.variable(name)
	}
	if !ok {
		return "", false
	}
	return substring(v, offset, length), true
}

// variable is pbx_retrieve_variable: built-in variables first, then the
// channel's, then globals.
func (x *expander) variable(name string) (string, bool) {
	if ch := x.ch; ch != nil {
		switch name {
		case "EXTEN":
			return ch.Location().Exten, true
		case "CONTEXT":
			return ch.Location().Context, true
		case "PRIORITY":
			return strconv.Itoa(ch.Location().Priority), true
		case "CHANNEL":
			return ch.Name(), true
		case "UNIQUEID":
			return ch.UniqueID(), true
		case "HANGUPCAUSE":
			return strconv.Itoa(int(ch.HangupCause())), true
		}
	}
	switch name {
	case "EPOCH":
		return strconv.FormatInt(x.now().Unix(), 10), true
	case "DATETIME": // Asterisk 1.2's, kept for old dialplans
		return function.Strftime("%d%m%Y-%H:%M:%S", x.now()), true
	}
	if x.ch != nil {
		if v, ok := x.ch.Var(name); ok {
			return v, true
		}
	}
	if x.globals != nil {
		return x.globals.Global(name)
	}
	return "", false
}

// callFunc reads NAME(args).
func (x *expander) callFunc(call string) (string, bool) {
	name, args, _ := function.Split(call)
	return x.readFunc(name, args)
}

func (x *expander) readFunc(name, args string) (string, bool) {
	f, ok := x.funcs[strings.ToUpper(name)]
	if !ok {
		x.warn("function not registered", "function", name)
		return "", false
	}
	v, err := f.Read(x.ctx, x.ch, args)
	if err != nil {
		x.warn("function failed", "function", name, "args", args, "error", err)
		return "", false
	}
	return v, true
}

// exprFunc lets $[...] call dialplan functions.
func (x *expander) exprFunc(name, args string) (string, bool) {
	return x.readFunc(name, args)
}
