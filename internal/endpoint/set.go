package endpoint

import (
	"net/netip"
	"sort"
)

// Set is an immutable index of endpoints. A reload builds a new Set and swaps
// it in, so readers never lock.
type Set struct {
	byKey  map[string]*Endpoint // "PJSIP/1000"
	byAOR  map[string]*Endpoint // AOR name or sip.conf peer name
	byUser map[string]*Endpoint // auth username
	all    []*Endpoint
}

// NewSet indexes eps. When two endpoints claim the same AOR or auth username
// the first one wins (pjsip before sip.conf when both are loaded, as the
// caller orders them); the loser is still reachable by Key.
func NewSet(eps []*Endpoint) *Set {
	s := &Set{
		byKey:  make(map[string]*Endpoint, len(eps)),
		byAOR:  make(map[string]*Endpoint, len(eps)),
		byUser: make(map[string]*Endpoint, len(eps)),
	}
	for _, e := range eps {
		if _, dup := s.byKey[e.Key()]; dup {
			continue
		}
		s.byKey[e.Key()] = e
		s.all = append(s.all, e)
		aors := e.AORs
		if len(aors) == 0 {
			aors = []string{e.Name}
		}
		for _, a := range aors {
			if _, ok := s.byAOR[a]; !ok {
				s.byAOR[a] = e
			}
		}
		for _, c := range e.Credentials {
			if _, ok := s.byUser[c.Username]; !ok {
				s.byUser[c.Username] = e
			}
		}
	}
	sort.SliceStable(s.all, func(i, j int) bool {
		if s.all[i].Tech != s.all[j].Tech {
			return s.all[i].Tech < s.all[j].Tech
		}
		return s.all[i].Name < s.all[j].Name
	})
	return s
}

// All returns every endpoint sorted by tech then name. Callers must not modify it.
func (s *Set) All() []*Endpoint {
	if s == nil {
		return nil
	}
	return s.all
}

// Get returns the endpoint with the given Tech and name.
func (s *Set) Get(tech Tech, name string) *Endpoint {
	if s == nil {
		return nil
	}
	return s.byKey[string(tech)+"/"+name]
}

// ByAOR returns the endpoint owning the address-of-record name (the user part
// of a REGISTER's To URI).
func (s *Set) ByAOR(aor string) *Endpoint {
	if s == nil {
		return nil
	}
	return s.byAOR[aor]
}

// ByAuthUser returns the endpoint that has a credential for username.
func (s *Set) ByAuthUser(username string) *Endpoint {
	if s == nil {
		return nil
	}
	return s.byUser[username]
}

// Credential returns e's credential for username.
func (e *Endpoint) Credential(username string) (Credential, bool) {
	for _, c := range e.Credentials {
		if c.Username == username {
			return c, true
		}
	}
	return Credential{}, false
}

// ByAddr returns the first endpoint whose Identify prefixes contain addr,
// preferring the longest prefix.
func (s *Set) ByAddr(addr netip.Addr) *Endpoint {
	if s == nil {
		return nil
	}
	var best *Endpoint
	bestBits := -1
	for _, e := range s.all {
		for _, p := range e.Identify {
			if p.Contains(addr) && p.Bits() > bestBits {
				best, bestBits = e, p.Bits()
			}
		}
	}
	return best
}
