package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a place in a configuration file. IncludedFrom points at the
// #include line that pulled File in, so messages can show the chain.
type Pos struct {
	File         string
	Line         int
	IncludedFrom *Pos
}

// String returns "file:line".
func (p Pos) String() string {
	if p.File == "" {
		return "<builtin>"
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Chain returns the #include sites leading to p, innermost first.
func (p Pos) Chain() []Pos {
	var out []Pos
	for q := p.IncludedFrom; q != nil; q = q.IncludedFrom {
		out = append(out, *q)
	}
	return out
}

// Severity tells a warning, which Asterisk logs and ignores, from an error,
// which makes it reject the file.
type Severity int

const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diag is one diagnostic about a configuration file. It is an error so that
// a fatal one can be returned as is; use errors.As to get at the position.
type Diag struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

// Error returns "file:line: msg", followed by the include chain if any:
// "b.conf:3: msg (included from a.conf:5, from sip.conf:2)".
func (d Diag) Error() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	b.WriteString(d.Msg)
	for i, q := range d.Pos.Chain() {
		if i == 0 {
			b.WriteString(" (included from ")
		} else {
			b.WriteString(", from ")
		}
		b.WriteString(q.String())
	}
	if d.Pos.IncludedFrom != nil {
		b.WriteByte(')')
	}
	return b.String()
}

// Errorf returns a fatal *Diag at pos.
func Errorf(pos Pos, format string, args ...any) *Diag {
	return &Diag{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)}
}

// Diags collects warnings, dropping exact repeats: an unknown option in a
// template is reported once, not once per section that inherits it.
// The zero value is ready to use.
type Diags struct {
	list []Diag
	seen map[string]bool
}

// Add records d unless the same message was already recorded at the same place.
func (ds *Diags) Add(d Diag) {
	key := d.Error()
	if ds.seen[key] {
		return
	}
	if ds.seen == nil {
		ds.seen = make(map[string]bool)
	}
	ds.seen[key] = true
	ds.list = append(ds.list, d)
}

// Warnf records a warning at pos.
func (ds *Diags) Warnf(pos Pos, format string, args ...any) {
	ds.Add(Diag{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

// Append records every diagnostic of list.
func (ds *Diags) Append(list []Diag) {
	for _, d := range list {
		ds.Add(d)
	}
}

// List returns the recorded diagnostics in the order they were added.
func (ds *Diags) List() []Diag { return ds.list }
