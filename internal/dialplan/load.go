package dialplan

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/dialplan/timing"
)

// Load reads the extensions.conf at path; #include names resolve against
// its directory unless opts say otherwise. The error is the config
// parser's fatal one (a *config.Diag citing file:line) or a read error;
// everything pbx_config would only log comes back as warnings, each citing
// file:line.
//
// Applications are checked against the app registry, so import the
// application packages (internal/app/all) before loading: a priority that
// names an unknown application loads with a warning and fails when a call
// reaches it, as in Asterisk.
func Load(path string, opts ...config.Option) (*Dialplan, []config.Diag, error) {
	f, diags, err := config.ParseFile(path, opts...)
	if err != nil {
		return nil, diags, err
	}
	dp, more := FromConfig(f)
	return dp, append(diags, more...), nil
}

// Parse parses data as the extensions.conf called name (tests, READMEs).
func Parse(name string, data []byte, opts ...config.Option) (*Dialplan, []config.Diag, error) {
	f, diags, err := config.Parse(name, data, opts...)
	if err != nil {
		return nil, diags, err
	}
	dp, more := FromConfig(f)
	return dp, append(diags, more...), nil
}

// FromConfig builds a dialplan from a parsed extensions.conf, as
// pbx_config's pbx_load_config does. It never fails: problems are
// warnings, and the lines they concern are skipped.
func FromConfig(f *config.File) (*Dialplan, []config.Diag) {
	l := &loader{
		dp:      &Dialplan{Path: f.Path, byName: map[string]*Context{}},
		globals: NewGlobals(),
	}
	l.dp.General = General{AutoFallthrough: true, UsersContext: "default"}
	l.funcs = newFuncTable(l.globals, nil, slog.New(slog.DiscardHandler), time.Now)
	for _, s := range f.All() {
		if strings.EqualFold(s.Name, "general") {
			l.general(s)
		}
	}
	for _, s := range f.All() {
		if strings.EqualFold(s.Name, "globals") {
			for _, v := range s.Vars {
				val := l.subst(v.Value)
				l.globals.SetGlobal(v.Name, val)
				l.dp.Globals = append(l.dp.Globals, Global{Name: v.Name, Value: val, Pos: v.Pos})
			}
		}
	}
	for _, s := range f.All() {
		if strings.EqualFold(s.Name, "general") || strings.EqualFold(s.Name, "globals") {
			continue
		}
		l.context(s)
	}
	for _, c := range l.dp.contexts {
		sort.SliceStable(c.Extensions, func(i, j int) bool {
			return cmpExtension(c.Extensions[i], c.Extensions[j]) < 0
		})
		for _, inc := range c.Includes {
			if l.dp.byName[inc.Context] == nil {
				l.warnf(inc.Pos, "context '%s' includes '%s', which does not exist", c.Name, inc.Context)
			}
		}
	}
	return l.dp, l.diags.List()
}

type loader struct {
	dp      *Dialplan
	globals *Globals
	funcs   funcTable
	diags   config.Diags
}

func (l *loader) warnf(pos config.Pos, format string, args ...any) {
	l.diags.Warnf(pos, format, args...)
}

// subst substitutes globals and functions without a channel, as
// pbx_substitute_variables_helper(NULL, ...) does at load.
func (l *loader) subst(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	x := &expander{ctx: context.Background(), globals: l.globals, funcs: l.funcs, now: time.Now}
	return x.expand(s, 0)
}

var generalKeys = map[string]bool{
	"static": true, "writeprotect": true, "autofallthrough": true, "extenpatternmatchnew": true,
	"clearglobalvars": true, "overrideswitch": true, "userscontext": true, "priorityjumping": true,
	"autoload": true,
}

func (l *loader) general(s *config.Section) {
	g := &l.dp.General
	for _, v := range s.Vars {
		switch key := strings.ToLower(v.Name); key {
		case "static":
			g.Static = config.IsTrue(v.Value)
		case "writeprotect":
			g.WriteProtect = config.IsTrue(v.Value)
		case "autofallthrough":
			g.AutoFallthrough = config.IsTrue(v.Value)
			if !g.AutoFallthrough {
				l.warnf(v.Pos, "autofallthrough=no: gopbx does not collect more digits, a channel that runs out of priorities is hung up all the same")
			}
		case "extenpatternmatchnew":
			g.ExtenPatternMatchNew = config.IsTrue(v.Value)
		case "clearglobalvars":
			g.ClearGlobalVars = config.IsTrue(v.Value)
		case "userscontext":
			g.UsersContext = v.Value
		case "overrideswitch":
			if v.Value != "" {
				l.warnf(v.Pos, "overrideswitch is not supported: ignored")
			}
		default:
			if !generalKeys[key] {
				l.warnf(v.Pos, "unknown option '%s' in [general]%s: ignored", v.Name, suggest(key))
			}
		}
	}
}

// suggest names a [general] option one edit away from key ("tatic").
func suggest(key string) string {
	for k := range generalKeys {
		if oneEdit(key, k) {
			return fmt.Sprintf(" (did you mean '%s'?)", k)
		}
	}
	return ""
}

func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i:] == b[i+1:]
}

// contextState is what pbx_config carries from line to line of a section.
type contextState struct {
	c        *Context
	lastExt  string
	lastPri  int
	hasPrior bool // lastPri > -2 in pbx_config terms
}

func (l *loader) context(s *config.Section) {
	c := l.dp.byName[s.Name]
	if c == nil {
		c = &Context{Name: s.Name, Pos: s.Pos}
		l.dp.byName[s.Name] = c
		l.dp.contexts = append(l.dp.contexts, c)
	}
	st := &contextState{c: c}
	for _, v := range s.Vars {
		name := strings.ToLower(v.Name)
		switch {
		case strings.HasPrefix(name, "same"):
			if st.lastExt == "" {
				l.warnf(v.Pos, "'%s' with no extension before it in context '%s': ignored", v.Name, c.Name)
				continue
			}
			l.exten(st, v, st.lastExt, v.Value)
		case name == "exten":
			ext, rest := pbxStrsep(v.Value)
			realExt := l.subst(ext)
			st.lastExt = realExt
			l.exten(st, v, realExt, rest)
		case name == "include":
			l.include(c, v)
		case name == "ignorepat":
			c.IgnorePats = append(c.IgnorePats, IgnorePat{Pattern: l.subst(v.Value), Pos: v.Pos})
		case name == "switch" || name == "lswitch" || name == "eswitch":
			val := v.Value
			if name == "switch" {
				val = l.subst(val)
			}
			sw, data, _ := strings.Cut(val, "/")
			c.Switches = append(c.Switches, Switch{Kind: name, Name: sw, Data: data, Pos: v.Pos})
			l.warnf(v.Pos, "%s => %s: switches are not supported, ignored", v.Name, v.Value)
		case name == "autohints":
			// Hints are not generated from devices; accepted for compatibility.
		default:
			l.warnf(v.Pos, "unknown directive '%s' in context '%s': ignored", v.Name, c.Name)
		}
	}
}

// pbxStrsep splits off the extension at the first ',' outside [] (a
// backslash protects the next character), as pbx_config's pbx_strsep.
func pbxStrsep(s string) (string, string) {
	square := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			square++
		case ']':
			if square > 0 {
				square--
			}
		case '\\':
			i++
		case ',':
			if square == 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// exten handles the part of an exten => or same => line after the
// extension: "priority[(label)][+n],App(data)".
func (l *loader) exten(st *contextState, v config.Var, realExt, rest string) {
	c := st.c
	ext, cid, hasCID := realExt, "", false
	if i := strings.IndexByte(realExt, '/'); i >= 0 {
		ext, cid, hasCID = realExt[:i], shrinkPhoneNumber(realExt[i+1:]), true
	}
	pri, appl, _ := strings.Cut(rest, ",")
	pri = strings.TrimSpace(pri)
	label := ""
	if i := strings.IndexByte(pri, '('); i >= 0 {
		label = pri[i+1:]
		pri = pri[:i]
		j := strings.IndexByte(label, ')')
		if j < 0 {
			l.warnf(v.Pos, "label missing trailing ')': ignored")
			return
		}
		label = label[:j]
	}
	plus := ""
	if i := strings.IndexByte(pri, '+'); i >= 0 {
		pri, plus = pri[:i], pri[i+1:]
	}
	var ipri int
	switch {
	case pri == "hint":
		ipri = PriorityHint
	case pri == "next" || pri == "n":
		if !st.hasPrior {
			l.warnf(v.Pos, "can't use 'next' priority on the first entry: ignored")
			return
		}
		ipri = st.lastPri + 1
		if ipri == 0 {
			l.warnf(v.Pos, "priority 'n' right after a hint line is 0: ignored, as Asterisk does")
			return
		}
	case pri == "same" || pri == "s":
		if !st.hasPrior {
			l.warnf(v.Pos, "can't use 'same' priority on the first entry: ignored")
			return
		}
		ipri = st.lastPri
	default:
		n, ok := scanPriority(pri)
		if !ok {
			p := l.findLabelIn(c, ext, pri)
			if p == nil {
				l.warnf(v.Pos, "invalid priority/label '%s': ignored", pri)
				return
			}
			n = p.Number
		} else if n < 1 {
			l.warnf(v.Pos, "invalid priority '%s': ignored", pri)
			return
		}
		ipri = n
	}
	appName, data, closed := splitApp(appl)
	if !closed {
		l.warnf(v.Pos, "no closing parenthesis found in '%s'", strings.TrimSpace(appl))
	}
	if plus != "" {
		n, _ := scanPriority(plus)
		ipri += n
	}
	st.lastPri, st.hasPrior = ipri, true
	if ext == "" {
		l.warnf(v.Pos, "empty extension name in context '%s': ignored", c.Name)
		return
	}
	if ext == "_." || ext == "_!" {
		l.warnf(v.Pos, "the use of '%s' for an extension is strongly discouraged and can have unexpected behavior; use '_X%c' instead", ext, ext[1])
	}
	if ipri != PriorityHint {
		if appName == "" {
			l.warnf(v.Pos, "no application in extension '%s' priority %d", ext, ipri)
		} else if _, _, ok := app.Lookup(appName); !ok {
			l.warnf(v.Pos, "no application '%s' for extension '%s' priority %d: calls reaching it will fail", appName, ext, ipri)
		}
	}
	l.checkCase(v.Pos, data)
	l.add(c, v.Pos, ext, hasCID, cid, ipri, label, appName, data)
}

// wellKnownVars are variables a dialplan often misspells in lower case.
var wellKnownVars = map[string]bool{
	"EXTEN": true, "CONTEXT": true, "PRIORITY": true, "CHANNEL": true, "UNIQUEID": true,
	"HANGUPCAUSE": true, "EPOCH": true, "DIALSTATUS": true,
}

// checkCase warns about ${exten} and the like: variable names are
// case-sensitive in Asterisk, so they read as empty.
func (l *loader) checkCase(pos config.Pos, data string) {
	for rest := data; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return
		}
		rest = rest[i+2:]
		j := strings.IndexAny(rest, ":}(")
		if j < 0 || rest[j] == '(' {
			continue
		}
		name := rest[:j]
		if up := strings.ToUpper(name); up != name && wellKnownVars[up] {
			l.warnf(pos, "${%s} is empty: variable names are case-sensitive (did you mean ${%s}?)", name, up)
		}
	}
}

// scanPriority is sscanf("%d") for priorities.
func scanPriority(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t")
	j := 0
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j {
		return 0, false
	}
	n, err := strconv.Atoi(s[:k])
	return n, err == nil
}

// splitApp splits "App(data)" as pbx_config does: no '(' means no data;
// an application part holding "${" or "$[" is taken whole, with no data;
// data runs to the last ')'. closed is false when that ')' is missing (the
// data is then the rest of the line).
func splitApp(appl string) (name, data string, closed bool) {
	i := strings.IndexByte(appl, '(')
	if i < 0 {
		return strings.TrimLeft(appl, " \t"), "", true
	}
	name = appl[:i]
	if strings.Contains(name, "${") || strings.Contains(name, "$[") {
		return strings.TrimLeft(appl, " \t"), "", true
	}
	data = appl[i+1:]
	j := strings.LastIndexByte(data, ')')
	if j < 0 {
		return strings.TrimLeft(name, " \t"), data, false
	}
	return strings.TrimLeft(name, " \t"), data[:j], true
}

// findLabelIn looks for label in the extensions of c matching ext (no
// includes), for "exten => x,label+1,...".
func (l *loader) findLabelIn(c *Context, ext, label string) *Priority {
	for _, e := range c.Extensions {
		if extMatch(e.exten, stripFluff(ext), matchExact) == 0 {
			continue
		}
		if p := e.Label(label); p != nil {
			return p
		}
	}
	return nil
}

// cmpExtension orders extensions as ast_add_extension2 inserts them:
// ext_cmp, then an extension with a caller-ID match before the same one
// without. 0 means the same extension (so _N and _[2-9] are one).
func cmpExtension(a, b *Extension) int {
	if c := extCmp(a.exten, b.exten); c != 0 {
		return c
	}
	switch {
	case a.HasCID && !b.HasCID:
		return -1
	case !a.HasCID && b.HasCID:
		return 1
	case !a.HasCID:
		return 0
	}
	return extCmp(a.cid, b.cid)
}

// add is ast_add_extension2 followed by add_priority.
func (l *loader) add(c *Context, pos config.Pos, name string, hasCID bool, cid string, prio int, label, appName, data string) {
	ne := &Extension{Name: name, CID: cid, HasCID: hasCID, Context: c.Name, exten: stripFluff(name), cid: stripFluff(cid)}
	var e *Extension
	for _, x := range c.Extensions {
		if cmpExtension(x, ne) == 0 {
			e = x
			break
		}
	}
	if e == nil {
		e = ne
		c.Extensions = append(c.Extensions, e)
	}
	alias := ""
	if e.Name != name {
		alias = fmt.Sprintf(" by aliased extension '%s'", e.Name)
	}
	p := &Priority{Number: prio, Label: label, App: appName, Data: data, Pos: pos, Exten: e}
	if prio == PriorityHint {
		if e.Hint != nil {
			l.warnf(pos, "unable to register hint for extension '%s' in '%s', already in use%s (%s)", name, c.Name, alias, e.Hint.Pos)
			return
		}
		e.Hint = p
		return
	}
	if old := e.Priority(prio); old != nil {
		l.warnf(pos, "unable to register extension '%s' priority %d in '%s', already in use%s (%s)", name, prio, c.Name, alias, old.Pos)
		return
	}
	if label != "" {
		if old := e.Label(label); old != nil {
			l.warnf(pos, "extension '%s' priority %d in '%s': label '%s' already in use at priority %d; label dropped", name, prio, c.Name, label, old.Number)
			p.Label = ""
		}
	}
	i := sort.Search(len(e.Priorities), func(i int) bool { return e.Priorities[i].Number > prio })
	e.Priorities = append(e.Priorities, nil)
	copy(e.Priorities[i+1:], e.Priorities[i:])
	e.Priorities[i] = p
}

// include handles include => context[,timespec].
func (l *loader) include(c *Context, v config.Var) {
	val := l.subst(v.Value)
	name, spec := val, ""
	if i := strings.IndexAny(val, "|,"); i >= 0 {
		name, spec = val[:i], val[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "" {
		l.warnf(v.Pos, "include with no context name: ignored")
		return
	}
	for _, inc := range c.Includes {
		if inc.Context == name {
			l.warnf(v.Pos, "context '%s' already included in '%s': ignored", name, c.Name)
			return
		}
	}
	inc := &Include{Context: name, Spec: spec, Pos: v.Pos}
	if strings.TrimSpace(spec) != "" {
		ts, err := timing.Parse(spec)
		if err != nil {
			l.warnf(v.Pos, "include '%s': %v", name, err)
		}
		inc.Time = ts
	}
	c.Includes = append(c.Includes, inc)
}
