package location

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// numShards spreads AORs over independently locked maps. Only the map
// lookups take a shard lock; the per-AOR write lock is in the record.
const numShards = 64

// Memory is a Store that keeps every binding in memory. Alone it is the
// store for tests and single-process setups that need no persistence; with
// WithBackend it is the read copy in front of a durable store, which then
// serves Lookup without touching the backend.
//
// Reads take no write lock: each AOR's bindings are an immutable slice
// swapped atomically, so Lookup costs one map lookup and one copy.
type Memory struct {
	seed    maphash.Seed
	backend Backend
	initial []Binding // WithBindings, consumed by NewMemory
	shards  [numShards]shard
}

type shard struct {
	mu   sync.RWMutex
	aors map[string]*record
	_    [32]byte // keep shards on separate cache lines
}

// record holds one AOR. mu is the AOR's write lock, held from reading the
// current bindings until the new ones are published (and, with a backend,
// durable). A record whose last binding is removed leaves its shard and is
// marked dead, so a writer that waited on its lock looks the AOR up again.
type record struct {
	mu   sync.Mutex
	dead bool                      // guarded by mu
	list atomic.Pointer[[]Binding] // all stored bindings, Compare order; never modified in place
}

func (r *record) bindings() []Binding {
	if p := r.list.Load(); p != nil {
		return *p
	}
	return nil
}

// MemoryOption configures a Memory.
type MemoryOption func(*Memory)

// WithBackend makes every write go through b before it is visible: Memory
// becomes a write-through front cache for a durable store.
func WithBackend(b Backend) MemoryOption {
	return func(m *Memory) { m.backend = b }
}

// WithBindings preloads bs (typically the durable copy read at startup)
// without writing them to the backend and without order checks; for a
// repeated AOR and Contact the last one wins.
func WithBindings(bs []Binding) MemoryOption {
	return func(m *Memory) { m.initial = bs }
}

// NewMemory returns an empty Memory, or one preloaded by WithBindings.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].aors = make(map[string]*record)
	}
	for _, o := range opts {
		o(m)
	}
	m.load(m.initial)
	m.initial = nil
	return m
}

func (m *Memory) load(bs []Binding) {
	byAOR := make(map[string][]Binding)
	for _, b := range bs {
		l := byAOR[b.AOR]
		if i := index(l, b.Contact); i >= 0 {
			l[i] = b
		} else {
			byAOR[b.AOR] = append(l, b)
		}
	}
	for aor, l := range byAOR {
		slices.SortFunc(l, Compare)
		r := &record{}
		r.list.Store(&l)
		m.shard(aor).aors[aor] = r
	}
}

func (m *Memory) shard(aor string) *shard {
	return &m.shards[maphash.String(m.seed, aor)%numShards]
}

func (m *Memory) get(aor string) *record {
	s := m.shard(aor)
	s.mu.RLock()
	r := s.aors[aor]
	s.mu.RUnlock()
	return r
}

// lock returns aor's record, creating it if needed, with its write lock held.
func (m *Memory) lock(aor string) *record {
	s := m.shard(aor)
	for {
		r := m.get(aor)
		if r == nil {
			s.mu.Lock()
			if r = s.aors[aor]; r == nil {
				r = &record{}
				s.aors[aor] = r
			}
			s.mu.Unlock()
		}
		r.mu.Lock()
		if !r.dead {
			return r
		}
		r.mu.Unlock()
	}
}

// unlock releases r's write lock, first dropping r from its shard if it
// holds no binding any more.
func (m *Memory) unlock(aor string, r *record) {
	if len(r.bindings()) == 0 {
		s := m.shard(aor)
		s.mu.Lock()
		if s.aors[aor] == r {
			delete(s.aors, aor)
		}
		s.mu.Unlock()
		r.dead = true
	}
	r.mu.Unlock()
}

// write makes c durable through the backend, if any.
func (m *Memory) write(ctx context.Context, c Change) error {
	if m.backend == nil {
		return nil
	}
	return m.backend.Write(ctx, c)
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, b Binding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.AOR == "" || b.Contact == "" {
		return errors.New("location: put: binding without AOR or contact")
	}
	now := time.Now()
	if b.Updated.IsZero() {
		b.Updated = now
	}
	r := m.lock(b.AOR)
	defer m.unlock(b.AOR, r)

	old := r.bindings()
	i := index(old, b.Contact)
	if i >= 0 && old[i].Live(now) && !b.Supersedes(old[i]) {
		return outOfOrder(b, old[i])
	}
	next := make([]Binding, 0, len(old)+1)
	for k := range old {
		if k != i {
			next = append(next, old[k])
		}
	}
	j, _ := slices.BinarySearchFunc(next, b, Compare)
	next = slices.Insert(next, j, b)

	if err := m.write(ctx, Change{AOR: b.AOR, Put: []Binding{b}}); err != nil {
		return err
	}
	r.list.Store(&next)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, aor, contact string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := m.lock(aor)
	defer m.unlock(aor, r)

	old := r.bindings()
	i := index(old, contact)
	if i < 0 {
		return nil
	}
	if err := m.write(ctx, Change{AOR: aor, Delete: []string{contact}}); err != nil {
		return err
	}
	next := slices.Delete(slices.Clone(old), i, i+1)
	r.list.Store(&next)
	return nil
}

// DeleteAOR implements Store.
func (m *Memory) DeleteAOR(ctx context.Context, aor string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := m.lock(aor)
	defer m.unlock(aor, r)

	old := r.bindings()
	if len(old) == 0 {
		return nil
	}
	del := make([]string, len(old))
	for i, b := range old {
		del[i] = b.Contact
	}
	if err := m.write(ctx, Change{AOR: aor, Delete: del}); err != nil {
		return err
	}
	r.list.Store(new([]Binding))
	return nil
}

// Lookup implements Store.
func (m *Memory) Lookup(ctx context.Context, aor string) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := m.get(aor)
	if r == nil {
		return nil, nil
	}
	return live(r.bindings(), time.Now()), nil
}

// All implements Store.
func (m *Memory) All(ctx context.Context) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type group struct {
		aor  string
		list []Binding
	}
	var groups []group
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for aor, r := range s.aors {
			l := r.bindings()
			if len(l) > 0 {
				groups = append(groups, group{aor, l})
				n += len(l)
			}
		}
		s.mu.RUnlock()
	}
	slices.SortFunc(groups, func(a, b group) int { return strings.Compare(a.aor, b.aor) })
	out := make([]Binding, 0, n)
	for _, g := range groups {
		out = append(out, g.list...)
	}
	return out, nil
}

// expireChunk bounds how many AORs one Expire transaction covers, and so
// how many AOR write locks it holds at once and how long it occupies the
// backend.
const expireChunk = 512

// Expire implements Store. It finds the AORs holding expired bindings, then
// handles them in chunks: it takes the chunk's write locks (in AOR order, so
// concurrent Expires cannot deadlock), writes the removals to the backend in
// one Write, and only then drops them from memory. An error from the backend
// leaves that chunk and the following ones in place; the bindings already
// removed are returned with the error.
func (m *Memory) Expire(ctx context.Context, now time.Time) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type candidate struct {
		aor string
		r   *record
	}
	var cands []candidate
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for aor, r := range s.aors {
			for _, b := range r.bindings() {
				if !b.Live(now) {
					cands = append(cands, candidate{aor, r})
					break
				}
			}
		}
		s.mu.RUnlock()
	}
	slices.SortFunc(cands, func(a, b candidate) int { return strings.Compare(a.aor, b.aor) })

	var expired []Binding
	for len(cands) > 0 {
		chunk := cands[:min(len(cands), expireChunk)]
		cands = cands[len(chunk):]

		locked := chunk[:0:0]
		var changes []Change
		var next [][]Binding
		for _, c := range chunk {
			c.r.mu.Lock()
			if c.r.dead { // emptied meanwhile; a new record is left for the next Expire
				c.r.mu.Unlock()
				continue
			}
			old := c.r.bindings()
			keep := make([]Binding, 0, len(old))
			var del []string
			for _, b := range old {
				if b.Live(now) {
					keep = append(keep, b)
				} else {
					del = append(del, b.Contact)
				}
			}
			if len(del) == 0 { // refreshed meanwhile
				c.r.mu.Unlock()
				continue
			}
			locked = append(locked, c)
			changes = append(changes, Change{AOR: c.aor, Delete: del})
			next = append(next, keep)
		}
		var err error
		if len(changes) > 0 && m.backend != nil {
			err = m.backend.Write(ctx, changes...)
		}
		for i, c := range locked {
			if err == nil {
				for _, b := range c.r.bindings() {
					if !b.Live(now) {
						expired = append(expired, b)
					}
				}
				c.r.list.Store(&next[i])
			}
			m.unlock(c.aor, c.r)
		}
		if err != nil {
			return sortByAOR(expired), err
		}
	}
	return sortByAOR(expired), nil
}

func sortByAOR(bs []Binding) []Binding {
	slices.SortFunc(bs, func(a, b Binding) int {
		if c := strings.Compare(a.AOR, b.AOR); c != 0 {
			return c
		}
		return Compare(a, b)
	})
	return bs
}

// Apply implements Store.
func (m *Memory) Apply(ctx context.Context, aor string, fn ApplyFunc) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if aor == "" {
		return nil, errors.New("location: apply: empty AOR")
	}
	r := m.lock(aor)
	defer m.unlock(aor, r)

	now := time.Now()
	old := r.bindings()
	put, del, err := fn(live(old, now))
	if err != nil {
		return nil, err
	}

	put = slices.Clone(put)
	for i := range put {
		p := &put[i]
		switch {
		case p.AOR == "":
			p.AOR = aor
		case p.AOR != aor:
			return nil, fmt.Errorf("location: apply %s: put for AOR %s", aor, p.AOR)
		}
		if p.Contact == "" {
			return nil, fmt.Errorf("location: apply %s: put without contact", aor)
		}
		if index(put[:i], p.Contact) >= 0 {
			return nil, fmt.Errorf("location: apply %s: contact %s put twice", aor, p.Contact)
		}
		if p.Updated.IsZero() {
			p.Updated = now
		}
		if j := index(old, p.Contact); j >= 0 && old[j].Live(now) && !p.Supersedes(old[j]) {
			return nil, outOfOrder(*p, old[j])
		}
	}
	// Only deletes of stored contacts that are not put again reach the backend.
	var dels []string
	for _, c := range del {
		if index(old, c) >= 0 && index(put, c) < 0 && !slices.Contains(dels, c) {
			dels = append(dels, c)
		}
	}
	if len(put) == 0 && len(dels) == 0 {
		return live(old, now), nil
	}

	next := make([]Binding, 0, len(old)+len(put))
	for _, b := range old {
		if !slices.Contains(dels, b.Contact) && index(put, b.Contact) < 0 {
			next = append(next, b)
		}
	}
	next = append(next, put...)
	slices.SortFunc(next, Compare)

	if err := m.write(ctx, change(aor, old, put, dels)); err != nil {
		return nil, err
	}
	r.list.Store(&next)
	return live(next, now), nil
}

// change is the backend's Change for put and dels applied to old: puts
// that only refresh a stored binding go to Refresh.
func change(aor string, old, put []Binding, dels []string) Change {
	c := Change{AOR: aor, Delete: dels}
	for _, p := range put {
		if j := index(old, p.Contact); j >= 0 && RefreshOf(p, old[j]) {
			c.Refresh = append(c.Refresh, p)
		} else {
			c.Put = append(c.Put, p)
		}
	}
	return c
}

// index returns the position of contact in l, or -1.
func index(l []Binding, contact string) int {
	for i := range l {
		if l[i].Contact == contact {
			return i
		}
	}
	return -1
}

// live returns a new slice with the bindings of l that are live at now.
func live(l []Binding, now time.Time) []Binding {
	n := 0
	for i := range l {
		if l[i].Live(now) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Binding, 0, n)
	for i := range l {
		if l[i].Live(now) {
			out = append(out, l[i])
		}
	}
	return out
}

func outOfOrder(b, old Binding) error {
	return fmt.Errorf("location: %s %s: Call-ID %s CSeq %d does not follow CSeq %d: %w",
		b.AOR, b.Contact, b.CallID, b.CSeq, old.CSeq, ErrOutOfOrder)
}

var _ Store = (*Memory)(nil)
