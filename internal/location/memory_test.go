package location_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/storage/storagetest"
)

func TestMemory(t *testing.T) {
	storagetest.TestLocationStore(t, func(*testing.T) location.Store {
		return location.NewMemory()
	})
}

// fakeBackend records what Memory writes through and fails on demand.
type fakeBackend struct {
	mu      sync.Mutex
	writes  [][]location.Change
	failing error
}

func (f *fakeBackend) Write(_ context.Context, cs ...location.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing != nil {
		return f.failing
	}
	f.writes = append(f.writes, slices.Clone(cs))
	return nil
}

func (f *fakeBackend) take() [][]location.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

func TestMemoryBackend(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	fb := &fakeBackend{}
	m := location.NewMemory(location.WithBackend(fb))
	a := location.Binding{AOR: "1000", Contact: "sip:a", Expires: now.Add(time.Hour), Q: location.NoQ}
	b := location.Binding{AOR: "1000", Contact: "sip:b", Expires: now.Add(-time.Hour), Q: location.NoQ}
	c := location.Binding{AOR: "2000", Contact: "sip:c", Expires: now.Add(-time.Hour), Q: location.NoQ}
	for _, x := range []location.Binding{a, b, c} {
		if err := m.Put(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if got := fb.take(); len(got) != 3 || got[0][0].AOR != "1000" || got[0][0].Put[0].Contact != "sip:a" {
		t.Errorf("writes for 3 Puts = %+v", got)
	}

	// Nothing that changes nothing reaches the backend.
	if err := m.Delete(ctx, "1000", "sip:nobody"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteAOR(ctx, "9999"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
		return nil, []string{"sip:nobody"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := fb.take(); len(got) != 0 {
		t.Errorf("no-op writes reached the backend: %+v", got)
	}

	// Expire writes every AOR's removals in one Write.
	exp, err := m.Expire(ctx, now)
	if err != nil || len(exp) != 2 {
		t.Fatalf("Expire = %v, %v", exp, err)
	}
	got := fb.take()
	if len(got) != 1 || len(got[0]) != 2 ||
		got[0][0].AOR != "1000" || !slices.Equal(got[0][0].Delete, []string{"sip:b"}) ||
		got[0][1].AOR != "2000" || !slices.Equal(got[0][1].Delete, []string{"sip:c"}) {
		t.Errorf("Expire writes = %+v", got)
	}
}

func TestMemoryBackendFailure(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	fb := &fakeBackend{}
	a := location.Binding{AOR: "1000", Contact: "sip:a", CallID: "x", CSeq: 1, Expires: now.Add(time.Hour), Q: location.NoQ}
	old := location.Binding{AOR: "1000", Contact: "sip:old", Expires: now.Add(-time.Hour), Q: location.NoQ}
	m := location.NewMemory(location.WithBackend(fb), location.WithBindings([]location.Binding{a, old}))
	errDisk := errors.New("disk on fire")
	fb.failing = errDisk

	a2 := a
	a2.CSeq++
	n := location.Binding{AOR: "1000", Contact: "sip:new", Expires: now.Add(time.Hour), Q: location.NoQ}
	ops := map[string]func() error{
		"Put":       func() error { return m.Put(ctx, a2) },
		"Put new":   func() error { return m.Put(ctx, n) },
		"Delete":    func() error { return m.Delete(ctx, "1000", "sip:a") },
		"DeleteAOR": func() error { return m.DeleteAOR(ctx, "1000") },
		"Apply": func() error {
			_, err := m.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
				return []location.Binding{n}, []string{"sip:a"}, nil
			})
			return err
		},
		"Expire": func() error {
			exp, err := m.Expire(ctx, now)
			if len(exp) != 0 {
				t.Errorf("failed Expire reported %v", exp)
			}
			return err
		},
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, errDisk) {
			t.Errorf("%s with a failing backend: %v", name, err)
		}
		all, _ := m.All(ctx)
		if len(all) != 2 || all[0].CSeq != 1 {
			t.Errorf("after failed %s: All = %+v, want it unchanged", name, all)
		}
	}
}

func TestWithBindings(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	low := location.Binding{AOR: "1000", Contact: "sip:low", Q: 0.1, Expires: now.Add(time.Hour)}
	high := location.Binding{AOR: "1000", Contact: "sip:high", Q: 0.9, Expires: now.Add(time.Hour)}
	dup := high
	dup.CSeq = 7
	m := location.NewMemory(location.WithBindings([]location.Binding{low, high, dup}))
	got, err := m.Lookup(ctx, "1000")
	if err != nil || len(got) != 2 || got[0].Contact != "sip:high" || got[0].CSeq != 7 || got[1].Contact != "sip:low" {
		t.Errorf("Lookup = %+v, %v; want high (the last copy) then low", got, err)
	}
}
