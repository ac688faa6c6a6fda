package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry maps names, case-insensitively as Asterisk does, to factories.
type Registry[F any] struct {
	kind    string // "app", "function": the prefix of panic messages
	invalid string // characters a name may not contain
	mu      sync.RWMutex
	byName  map[string]entry[F]
}

type entry[F any] struct {
	name    string
	factory F
}

// New makes an empty registry for kind, refusing names with any of invalid.
func New[F any](kind, invalid string) *Registry[F] {
	return &Registry[F]{kind: kind, invalid: invalid, byName: map[string]entry[F]{}}
}

// Register adds f under name. It panics on an empty or invalid name, a nil
// factory or a name registered twice: these are programming errors in init.
func (r *Registry[F]) Register(name string, f F, isNil bool) {
	if name == "" || strings.ContainsAny(name, r.invalid) {
		panic(fmt.Sprintf("%s: invalid %s name %q", r.kind, r.kindWord(), name))
	}
	if isNil {
		panic(r.kind + ": nil factory for " + name)
	}
	key := strings.ToLower(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.byName[key]; dup {
		panic(fmt.Sprintf("%s: %s registered twice (as %s and %s)", r.kind, name, old.name, name))
	}
	r.byName[key] = entry[F]{name: name, factory: f}
}

func (r *Registry[F]) kindWord() string {
	if r.kind == "app" {
		return "application"
	}
	return r.kind
}

// Lookup returns the factory under name (any case) and the name as
// registered.
func (r *Registry[F]) Lookup(name string) (f F, canonical string, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byName[strings.ToLower(name)]
	return e.factory, e.name, ok
}

// Names returns the registered names, sorted.
func (r *Registry[F]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.byName))
	for _, e := range r.byName {
		out = append(out, e.name)
	}
	sort.Strings(out)
	return out
}
