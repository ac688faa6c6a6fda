package dialplan

import (
	"sync"
)

// Globals is a table of global variables ([globals], GLOBAL(), Set on a
// name no channel has). It is safe for concurrent use.
type Globals struct {
	mu    sync.RWMutex
	vars  map[string]string
	order []string
}

// NewGlobals returns an empty table.
func NewGlobals() *Globals { return &Globals{vars: map[string]string{}} }

// Global returns a global's value. Names are case-sensitive.
func (g *Globals) Global(name string) (string, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	v, ok := g.vars[name]
	return v, ok
}

// SetGlobal sets a global; an empty value deletes it.
func (g *Globals) SetGlobal(name, value string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if value == "" {
		if _, ok := g.vars[name]; ok {
			delete(g.vars, name)
			for i, n := range g.order {
				if n == name {
					g.order = append(g.order[:i], g.order[i+1:]...)
					break
				}
			}
		}
		return
	}
	if _, ok := g.vars[name]; !ok {
		g.order = append(g.order, name)
	}
	g.vars[name] = value
}

// All returns the globals in the order they were first set.
func (g *Globals) All() [][2]string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([][2]string, 0, len(g.order))
	for _, n := range g.order {
		out = append(out, [2]string{n, g.vars[n]})
	}
	return out
}

// Clear deletes every global.
func (g *Globals) Clear() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vars = map[string]string{}
	g.order = nil
}
