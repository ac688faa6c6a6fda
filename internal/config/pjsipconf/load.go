package pjsipconf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// Load reads pjsip.conf (and its includes) from path.
func Load(path string, opts ...config.Option) (*Config, []config.Diag, error) {
	f, diags, err := config.ParseFile(path, opts...)
	if err != nil {
		return nil, diags, err
	}
	c, more, err := FromFile(f)
	return c, append(diags, more...), err
}

// Parse reads pjsip.conf from data, for tests.
func Parse(name string, data []byte, opts ...config.Option) (*Config, []config.Diag, error) {
	f, diags, err := config.Parse(name, data, opts...)
	if err != nil {
		return nil, diags, err
	}
	c, more, err := FromFile(f)
	return c, append(diags, more...), err
}

// otherTypes are sorcery types res_pjsip modules register that gopbx keeps
// as plain Objects.
var otherTypes = map[string]bool{
	"contact": true, "outbound-publish": true, "inbound-publication": true,
	"asterisk-publication": true, "resource_list": true, "phoneprov": true,
	"subscription_persistence": true, "mwi": true, "nat_hook": true,
}

type loader struct {
	c     *Config
	diags config.Diags
	// globalPos and systemPos remember the first type=global / type=system.
	globalPos, systemPos *config.Pos
}

func (l *loader) warnf(pos config.Pos, format string, args ...any) {
	l.diags.Warnf(pos, format, args...)
}

// FromFile builds the typed configuration from a parsed pjsip.conf. The
// fatal errors are the ones for which Asterisk refuses the whole file: a
// section without type= and two objects of the same type and name. Unknown
// options and types, bad values and references to missing objects are
// warnings.
func FromFile(f *config.File) (*Config, []config.Diag, error) {
	l := &loader{c: &Config{Path: f.Path, Global: defaultGlobal(), System: defaultSystem()}}
	seen := map[string]config.Pos{}
	for _, s := range f.All() {
		tv, ok := s.Var("type")
		if !ok {
			return nil, l.diags.List(), config.Errorf(s.Pos, "[%s] has no type= (endpoint, auth, aor, transport, ...)", s.Name)
		}
		typ := strings.ToLower(strings.TrimSpace(tv.Value))
		key := typ + "\x00" + s.Name
		if first, dup := seen[key]; dup && typ != "global" && typ != "system" {
			return nil, l.diags.List(), config.Errorf(s.Pos, "duplicate %s object [%s] (first at %s); Asterisk refuses the whole file", typ, s.Name, first)
		}
		seen[key] = s.Pos
		obj := Object{ID: s.Name, Type: typ, Pos: s.Pos, Options: map[string]string{}}
		switch typ {
		case "transport":
			l.transport(s, obj)
		case "endpoint":
			l.endpoint(s, obj)
		case "auth":
			l.auth(s, obj)
		case "aor":
			l.aor(s, obj)
		case "identify":
			l.identify(s, obj)
		case "registration":
			l.registration(s, obj)
		case "global":
			l.global(s, obj)
		case "system":
			l.system(s, obj)
		case "domain_alias":
			l.domainAlias(s, obj)
		case "acl":
			l.acl(s, obj)
		default:
			if !otherTypes[typ] {
				l.warnf(tv.Pos, "unknown type %q; [%s] ignored", tv.Value, s.Name)
				continue
			}
			for _, v := range s.Vars {
				if !strings.EqualFold(v.Name, "type") {
					setOption(obj.Options, strings.ToLower(v.Name), v.Value, true)
				}
			}
			o := obj
			l.c.Others = append(l.c.Others, &o)
		}
	}
	l.validate()
	return l.c, l.diags.List(), nil
}

// opt handles one option of an object of type T. A nil fn means the option
// is recognised and only kept raw in Options. repeat joins repeated values.
type opt[T any] struct {
	fn     func(l *loader, o *T, v config.Var) error
	repeat bool
}

type table[T any] map[string]opt[T]

// apply runs the option handlers of table over the section's variables.
func apply[T any](l *loader, s *config.Section, o *T, obj *Object, t table[T]) {
	for _, v := range s.Vars {
		name := strings.ToLower(v.Name)
		if name == "type" {
			continue
		}
		op, ok := t[name]
		if !ok {
			l.warnf(v.Pos, "unknown option %q for type=%s", v.Name, obj.Type)
			continue
		}
		if op.fn != nil {
			if err := op.fn(l, o, v); err != nil {
				l.warnf(v.Pos, "%v", err)
			}
		}
		setOption(obj.Options, name, v.Value, op.repeat)
	}
}

// known adds option names kept raw only.
func (t table[T]) known(names string) table[T] {
	for _, n := range strings.Fields(names) {
		if _, ok := t[n]; !ok {
			t[n] = opt[T]{}
		}
	}
	return t
}

func setOption(m map[string]string, name, value string, repeatable bool) {
	if old, ok := m[name]; ok && repeatable && old != "" {
		m[name] = old + "," + value
		return
	}
	m[name] = value
}

// Field setters. Each keeps the old value and returns an error on a bad one.

func str[T any](field func(*T) *string) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		*field(o) = v.Value
		return nil
	}}
}

// file keeps a file name with the line that gave it, so a file that cannot
// be read is reported there.
func file[T any](field func(*T) (*string, *config.Pos)) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		name, pos := field(o)
		*name, *pos = strings.TrimSpace(v.Value), v.Pos
		return nil
	}}
}

func boolean[T any](field func(*T) *bool) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		b, err := config.ParseBool(v.Value)
		if err != nil {
			return fmt.Errorf("%s: %q is not yes or no", v.Name, v.Value)
		}
		*field(o) = b
		return nil
	}}
}

func count[T any](field func(*T) *int) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a number >= 0", v.Name, v.Value)
		}
		*field(o) = n
		return nil
	}}
}

func seconds[T any](field func(*T) *time.Duration) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a number of seconds", v.Name, v.Value)
		}
		*field(o) = time.Duration(n) * time.Second
		return nil
	}}
}

func millis[T any](field func(*T) *time.Duration) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a number of milliseconds", v.Name, v.Value)
		}
		*field(o) = time.Duration(n) * time.Millisecond
		return nil
	}}
}

// list replaces a list with a comma-separated value (auth=, aors=).
func list[T any](field func(*T) *[]string) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		*field(o) = config.SplitList(v.Value)
		return nil
	}}
}

// oneOf sets a lower-cased keyword from a fixed set.
func oneOf[T any](field func(*T) *string, allowed ...string) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		w := strings.ToLower(strings.TrimSpace(v.Value))
		for _, a := range allowed {
			if w == a {
				*field(o) = w
				return nil
			}
		}
		return fmt.Errorf("%s: %q is not one of %s", v.Name, v.Value, strings.Join(allowed, ", "))
	}}
}

// appendPrefixes appends the networks of a comma-separated value (local_net=).
func appendPrefixes[T any](field func(*T) *[]netip.Prefix) opt[T] {
	return opt[T]{repeat: true, fn: func(_ *loader, o *T, v config.Var) error {
		var bad []string
		for _, item := range config.SplitList(v.Value) {
			p, err := config.ParsePrefix(item)
			if err != nil {
				bad = append(bad, item)
				continue
			}
			*field(o) = append(*field(o), p)
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s: bad network %s", v.Name, strings.Join(bad, ", "))
		}
		return nil
	}}
}

func acl[T any](field func(*T) *[]config.ACLRule, permit bool) opt[T] {
	return opt[T]{repeat: true, fn: func(_ *loader, o *T, v config.Var) error {
		rules, err := config.ParseACL(permit, v.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		*field(o) = append(*field(o), rules...)
		return nil
	}}
}

// algorithms parses supported_algorithms_* and default_auth_algorithms_*.
func algorithms[T any](field func(*T) *[]string) opt[T] {
	return opt[T]{fn: func(_ *loader, o *T, v config.Var) error {
		var out []string
		for _, a := range config.SplitList(v.Value) {
			name, ok := canonicalAlgorithm(a)
			if !ok {
				return fmt.Errorf("%s: unknown digest algorithm %q (MD5, SHA-256, SHA-512-256)", v.Name, a)
			}
			out = append(out, name)
		}
		*field(o) = out
		return nil
	}}
}

func canonicalAlgorithm(s string) (string, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "MD5":
		return "MD5", true
	case "SHA-256":
		return "SHA-256", true
	case "SHA-512-256":
		return "SHA-512-256", true
	}
	return "", false
}
