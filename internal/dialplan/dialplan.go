package dialplan

import (
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/dialplan/timing"
)

// PriorityHint is the priority number of a hint line
// (exten => 100,hint,PJSIP/100), as Asterisk's PRIORITY_HINT.
const PriorityHint = -1

// Dialplan is a loaded extensions.conf. It is immutable once loaded and
// safe for concurrent use; reloading builds a new one.
type Dialplan struct {
	// Path is the file it was loaded from.
	Path string
	// General holds the [general] options.
	General General
	// Globals are the [globals] variables in file order, values
	// substituted as Asterisk does at load.
	Globals []Global

	contexts []*Context          // file order
	byName   map[string]*Context // case-sensitive, as find_context
}

// General is the [general] section.
type General struct {
	Static       bool // static=yes: "dialplan save" is not allowed (gopbx never saves)
	WriteProtect bool
	// AutoFallthrough (default yes) hangs up a channel that runs off the
	// end of its extension. With no, Asterisk would wait for more digits;
	// gopbx collects none and hangs up all the same.
	AutoFallthrough bool
	// ClearGlobalVars clears globals on reload instead of keeping those
	// the new file no longer sets.
	ClearGlobalVars bool
	// ExtenPatternMatchNew selects Asterisk's trie matcher. Both of its
	// matchers pick the first match in the same sorted order, which is the
	// one gopbx uses; the option is accepted and has no other effect.
	ExtenPatternMatchNew bool
	UsersContext         string
}

// Global is one [globals] variable.
type Global struct {
	Name, Value string
	Pos         config.Pos
}

// Context is one [context] section (several sections with the same name
// are merged, as pbx_config does).
type Context struct {
	Name string
	Pos  config.Pos
	// Extensions are in matching order: exact names before patterns, the
	// most specific pattern first, caller-ID matched extensions before the
	// same extension without one (Asterisk's ext_cmp).
	Extensions []*Extension
	Includes   []*Include
	IgnorePats []IgnorePat
	// Switches are stored for display; gopbx does not run switches.
	Switches []Switch
}

// Extension is one extension or pattern of a context with its priorities.
type Extension struct {
	// Name is the extension as written: "600", "_0XXXXXXXXX", "555-1212".
	Name string
	// CID is the caller-ID pattern after '/', when HasCID.
	CID    string
	HasCID bool
	// Context is the name of the context that holds it.
	Context string
	// Hint is the hint line, if any (Number is PriorityHint).
	Hint *Priority
	// Priorities are sorted by number.
	Priorities []*Priority

	exten string // Name without "-" fluff, what matching uses
	cid   string // CID without fluff
}

// Pattern reports whether the extension is a pattern (starts with '_').
func (e *Extension) Pattern() bool { return len(e.exten) > 0 && e.exten[0] == '_' }

// Priority returns priority n, or nil.
func (e *Extension) Priority(n int) *Priority {
	for _, p := range e.Priorities {
		if p.Number == n {
			return p
		}
	}
	return nil
}

// Label returns the priority labelled l, or nil.
func (e *Extension) Label(l string) *Priority {
	for _, p := range e.Priorities {
		if p.Label == l {
			return p
		}
	}
	return nil
}

// Priority is one step of an extension: exten => 600,2(label),App(Data).
type Priority struct {
	Number int
	Label  string
	App    string
	Data   string
	Pos    config.Pos
	// Exten is the extension it belongs to.
	Exten *Extension
}

// Include is an include => line.
type Include struct {
	Context string
	// Time is the optional time spec ("9:00-17:00,mon-fri,*,*"); nil means
	// always.
	Time *timing.Spec
	// Spec is the text after the context name, as written.
	Spec string
	Pos  config.Pos
}

// IgnorePat is an ignorepat => line.
type IgnorePat struct {
	Pattern string
	Pos     config.Pos
}

// Switch is a switch =>, lswitch => or eswitch => line.
type Switch struct {
	Kind, Name, Data string
	Pos              config.Pos
}

// Contexts returns the contexts in file order.
func (d *Dialplan) Contexts() []*Context { return d.contexts }

// Context returns the context called name (case-sensitive), or nil.
func (d *Dialplan) Context(name string) *Context { return d.byName[name] }
