package config

import "strings"

// Var is one "name = value" line.
type Var struct {
	Name  string // as written, e.g. "Exten"; loaders compare case-insensitively
	Value string
	Pos   Pos
	// Arrow is true for "name => value" (Asterisk's "object" flag).
	Arrow bool
	// Inherited is true for a variable copied from a template.
	Inherited bool
}

// Section is one [name] block together with what it inherited and what
// later [name](+) blocks appended to it.
type Section struct {
	Name     string
	Pos      Pos
	Template bool     // [name](!)
	Inherits []string // template names, in the order given
	Vars     []Var    // inherited variables first, then its own, in file order
}

// File is a parsed configuration file with its includes spliced in.
type File struct {
	Path string
	// Sections holds every section in file order, templates included.
	Sections []*Section
}

// All returns the non-template sections in file order, as Asterisk's
// ast_category_browse does.
func (f *File) All() []*Section {
	if f == nil {
		return nil
	}
	out := make([]*Section, 0, len(f.Sections))
	for _, s := range f.Sections {
		if !s.Template {
			out = append(out, s)
		}
	}
	return out
}

// Named returns the non-template sections called name (case-insensitive,
// as Asterisk), in file order. pjsip.conf may have several.
func (f *File) Named(name string) []*Section {
	if f == nil {
		return nil
	}
	var out []*Section
	for _, s := range f.Sections {
		if !s.Template && strings.EqualFold(s.Name, name) {
			out = append(out, s)
		}
	}
	return out
}

// Section returns the first non-template section called name, or nil.
func (f *File) Section(name string) *Section {
	if f == nil {
		return nil
	}
	for _, s := range f.Sections {
		if !s.Template && strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Var returns the last variable called key (case-insensitive). The last one
// wins because a section's own value overrides what a template gave it, as
// in ast_variable_retrieve.
func (s *Section) Var(key string) (Var, bool) {
	if s == nil {
		return Var{}, false
	}
	for i := len(s.Vars) - 1; i >= 0; i-- {
		if strings.EqualFold(s.Vars[i].Name, key) {
			return s.Vars[i], true
		}
	}
	return Var{}, false
}

// Get returns the last value of key.
func (s *Section) Get(key string) (string, bool) {
	v, ok := s.Var(key)
	return v.Value, ok
}

// GetDefault returns the last value of key, or def when key is absent.
func (s *Section) GetDefault(key, def string) string {
	if v, ok := s.Var(key); ok {
		return v.Value
	}
	return def
}

// GetAll returns every value of key in order (allow=ulaw, allow=alaw).
func (s *Section) GetAll(key string) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, v := range s.Vars {
		if strings.EqualFold(v.Name, key) {
			out = append(out, v.Value)
		}
	}
	return out
}

// Has reports whether the section sets key.
func (s *Section) Has(key string) bool {
	_, ok := s.Var(key)
	return ok
}
