package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

// TestLocationStore runs the location.Store contract against the stores open
// returns. Each call to open must return a new, empty store; open registers
// its own cleanup with t.
func TestLocationStore(t *testing.T, open func(t *testing.T) location.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s location.Store)
	}{
		{"PutLookup", testPutLookup},
		{"Upsert", testUpsert},
		{"OutOfOrder", testOutOfOrder},
		{"SeveralContacts", testSeveralContacts},
		{"Delete", testDelete},
		{"DeleteAOR", testDeleteAOR},
		{"Expiry", testExpiry},
		{"ExpireOnTime", testExpireOnTime},
		{"Ordering", testOrdering},
		{"Apply", testApply},
		{"ApplyRejects", testApplyRejects},
		{"ApplyConcurrentCounter", testApplyConcurrentCounter},
		{"ApplyConcurrentMaxContacts", testApplyConcurrentMaxContacts},
		{"ConcurrentReadWrite", testConcurrentReadWrite},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// TestLocationStoreReopen checks that bindings survive a restart. Every call
// to open must open the same durable data (for instance the same file) and
// return the store with a function that closes it; the first call sees an
// empty store.
func TestLocationStoreReopen(t *testing.T, open func(t *testing.T) (s location.Store, close func())) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()

	s, closeStore := open(t)
	a1 := binding("1000", "sip:1000@10.0.0.1:5060", now.Add(time.Hour))
	a1.Q = 0.7
	a2 := binding("1000", "sip:1000@10.0.0.2:5060;transport=tcp", now.Add(2*time.Hour))
	gone := binding("1000", "sip:1000@10.0.0.3:5060", now.Add(time.Hour))
	b1 := binding("2000", "sip:2000@10.0.0.4:5060", now.Add(time.Hour))
	old := binding("3000", "sip:3000@10.0.0.5:5060", now.Add(-time.Minute))
	for _, b := range []location.Binding{a1, a2, gone, b1, old} {
		mustPut(t, s, b)
	}
	if err := s.Delete(ctx, gone.AOR, gone.Contact); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	a1.CSeq++
	a1.Expires = now.Add(90 * time.Minute)
	if _, err := s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
		return []location.Binding{a1}, nil, nil
	}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	closeStore()

	s, closeStore = open(t)
	wantBindings(t, s, "1000", a2, a1) // a2 has no q: it ranks as 1.0
	wantBindings(t, s, "2000", b1)
	wantBindings(t, s, "3000")
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All after reopen", all, []location.Binding{a2, a1, b1, old})
	// The stored CSeq still orders updates after the restart.
	stale := a1
	stale.Expires = now.Add(3 * time.Hour)
	if err := s.Put(ctx, stale); !errors.Is(err, location.ErrOutOfOrder) {
		t.Errorf("Put with the stored CSeq after reopen: got %v, want ErrOutOfOrder", err)
	}
	exp, err := s.Expire(ctx, now)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	wantList(t, "Expire after reopen", exp, []location.Binding{old})
	closeStore()

	s, closeStore = open(t)
	defer closeStore()
	all, err = s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All after Expire and reopen", all, []location.Binding{a2, a1, b1})
}

func testPutLookup(t *testing.T, s location.Store) {
	ctx := context.Background()
	b := binding("1000", "sip:1000@192.168.1.10:5060;transport=udp", time.Now().Add(time.Hour))
	mustPut(t, s, b)
	wantBindings(t, s, "1000", b)
	wantBindings(t, s, "1001")

	// Updated is filled in when missing.
	c := binding("1001", "sip:1001@192.168.1.11:5060", time.Now().Add(time.Hour))
	c.Updated = time.Time{}
	before := time.Now()
	mustPut(t, s, c)
	got, err := s.Lookup(ctx, "1001")
	if err != nil || len(got) != 1 {
		t.Fatalf("Lookup 1001 = %v, %v; want one binding", got, err)
	}
	if got[0].Updated.Before(before) || got[0].Updated.After(time.Now()) {
		t.Errorf("Updated = %v, want set to the time of Put", got[0].Updated)
	}

	// The caller owns the slice.
	got[0].Contact = "sip:changed"
	wantBindings(t, s, "1000", b)

	for _, bad := range []location.Binding{{Contact: "sip:x"}, {AOR: "1000"}} {
		bad.Expires = time.Now().Add(time.Hour)
		if err := s.Put(ctx, bad); err == nil {
			t.Errorf("Put(%+v) succeeded, want an error", bad)
		}
	}
}

func testUpsert(t *testing.T, s location.Store) {
	now := time.Now()
	b := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Minute))
	mustPut(t, s, b)
	b.CSeq++
	b.Expires = now.Add(time.Hour)
	b.Received = "203.0.113.9:40000"
	b.Updated = now.Add(time.Second)
	mustPut(t, s, b)
	wantBindings(t, s, "1000", b)

	// A new Call-ID (the phone rebooted) replaces it even with a lower CSeq.
	b.CallID = "reboot"
	b.CSeq = 1
	mustPut(t, s, b)
	wantBindings(t, s, "1000", b)
}

func testOutOfOrder(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	b := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	b.CSeq = 5
	mustPut(t, s, b)
	for _, cseq := range []uint32{5, 4, 0} {
		late := b
		late.CSeq = cseq
		late.Expires = now.Add(2 * time.Hour)
		if err := s.Put(ctx, late); !errors.Is(err, location.ErrOutOfOrder) {
			t.Errorf("Put CSeq %d after %d: got %v, want ErrOutOfOrder", cseq, b.CSeq, err)
		}
	}
	wantBindings(t, s, "1000", b)

	// Order only guards live bindings: an expired one is replaced freely.
	e := binding("1001", "sip:1001@192.168.1.11:5060", now.Add(-time.Second))
	e.CSeq = 9
	mustPut(t, s, e)
	e.CSeq = 3
	e.Expires = now.Add(time.Hour)
	mustPut(t, s, e)
	wantBindings(t, s, "1001", e)
}

func testSeveralContacts(t *testing.T, s location.Store) {
	now := time.Now()
	var want []location.Binding
	for i := range 3 {
		b := binding("1000", fmt.Sprintf("sip:1000@192.168.1.%d:5060", 10+i), now.Add(time.Hour))
		b.CallID = fmt.Sprintf("call-%d", i)
		b.Updated = now.Add(time.Duration(-i) * time.Second) // newest first
		mustPut(t, s, b)
		want = append(want, b)
	}
	other := binding("2000", "sip:2000@192.168.1.10:5060", now.Add(time.Hour))
	mustPut(t, s, other)
	wantBindings(t, s, "1000", want...)
	wantBindings(t, s, "2000", other)
}

func testDelete(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	a := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	b := binding("1000", "sip:1000@192.168.1.11:5060", now.Add(time.Hour))
	b.Updated = a.Updated.Add(-time.Second)
	mustPut(t, s, a)
	mustPut(t, s, b)
	if err := s.Delete(ctx, "1000", a.Contact); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantBindings(t, s, "1000", b)
	for _, k := range [][2]string{{"1000", a.Contact}, {"1000", "sip:nobody"}, {"9999", "sip:x"}} {
		if err := s.Delete(ctx, k[0], k[1]); err != nil {
			t.Errorf("Delete(%q, %q) of a missing binding: %v", k[0], k[1], err)
		}
	}
	wantBindings(t, s, "1000", b)
	if err := s.Delete(ctx, "1000", b.Contact); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantBindings(t, s, "1000")
	// The AOR can register again after its last contact went away.
	mustPut(t, s, a)
	wantBindings(t, s, "1000", a)
}

func testDeleteAOR(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	a := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	b := binding("1000", "sip:1000@192.168.1.11:5060", now.Add(-time.Hour)) // expired, still stored
	c := binding("2000", "sip:2000@192.168.1.12:5060", now.Add(time.Hour))
	for _, x := range []location.Binding{a, b, c} {
		mustPut(t, s, x)
	}
	if err := s.DeleteAOR(ctx, "1000"); err != nil {
		t.Fatalf("DeleteAOR: %v", err)
	}
	wantBindings(t, s, "1000")
	wantBindings(t, s, "2000", c)
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All", all, []location.Binding{c})
	if err := s.DeleteAOR(ctx, "9999"); err != nil {
		t.Errorf("DeleteAOR of an unknown AOR: %v", err)
	}
}

func testExpiry(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	liveA := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	deadA := binding("1000", "sip:1000@192.168.1.11:5060", now.Add(-time.Second))
	deadB := binding("2000", "sip:2000@192.168.1.12:5060", now.Add(-time.Minute))
	liveB := binding("2000", "sip:2000@192.168.1.13:5060", now.Add(2*time.Hour))
	deadA.Updated = liveA.Updated.Add(-time.Second) // live ones are newer
	deadB.Updated = liveB.Updated.Add(-time.Second)
	for _, b := range []location.Binding{liveA, deadA, deadB, liveB} {
		mustPut(t, s, b)
	}
	wantBindings(t, s, "1000", liveA)
	wantBindings(t, s, "2000", liveB)
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All before Expire", all, []location.Binding{liveA, deadA, liveB, deadB})

	exp, err := s.Expire(ctx, now)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	wantList(t, "Expire(now)", exp, []location.Binding{deadA, deadB})
	exp, err = s.Expire(ctx, now)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	wantList(t, "second Expire(now)", exp, nil)

	// A binding expiring exactly at now is expired.
	exp, err = s.Expire(ctx, liveA.Expires)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	wantList(t, "Expire(liveA.Expires)", exp, []location.Binding{liveA})
	all, err = s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All after Expire", all, []location.Binding{liveB})
}

func testExpireOnTime(t *testing.T, s location.Store) {
	ctx := context.Background()
	b := binding("1000", "sip:1000@192.168.1.10:5060", time.Now().Add(200*time.Millisecond))
	mustPut(t, s, b)
	got, err := s.Lookup(ctx, "1000")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if checked := time.Now(); checked.Before(b.Expires) { // else the machine stalled past the expiry
		wantList(t, "Lookup before expiry", got, []location.Binding{b})
	}
	time.Sleep(time.Until(b.Expires) + 10*time.Millisecond)
	wantBindings(t, s, "1000")
	exp, err := s.Expire(ctx, time.Now())
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	wantList(t, "Expire", exp, []location.Binding{b})
}

func testOrdering(t *testing.T, s location.Store) {
	now := time.Now()
	mk := func(n int, q float64, age time.Duration) location.Binding {
		b := binding("1000", fmt.Sprintf("sip:1000@192.168.1.%d:5060", n), now.Add(time.Hour))
		b.CallID = fmt.Sprintf("call-%d", n)
		b.Q = q
		b.Updated = now.Add(-age)
		return b
	}
	low := mk(1, 0.1, 0)
	midOld := mk(2, 0.5, time.Minute)
	midNew := mk(3, 0.5, time.Second)
	noQ := mk(4, location.NoQ, time.Hour) // ranks as q=1.0
	top := mk(5, 1.0, 0)
	zero := mk(6, 0, 0)
	for _, b := range []location.Binding{low, midOld, noQ, zero, midNew, top} {
		mustPut(t, s, b)
	}
	wantBindings(t, s, "1000", top, noQ, midNew, midOld, low, zero)
}

func testApply(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	a := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	b := binding("1000", "sip:1000@192.168.1.11:5060", now.Add(time.Hour))
	b.Updated = a.Updated.Add(-time.Second)
	c := binding("1000", "sip:1000@192.168.1.12:5060", now.Add(time.Hour))
	c.Updated = a.Updated.Add(-2 * time.Second)
	expired := binding("1000", "sip:1000@192.168.1.13:5060", now.Add(-time.Hour))
	mustPut(t, s, a)
	mustPut(t, s, b)
	mustPut(t, s, expired)

	// One REGISTER: refresh a, remove b, add c. fn sees only live bindings.
	a2 := a
	a2.CSeq++
	a2.Expires = now.Add(2 * time.Hour)
	a2.AOR = "" // Apply fills it in
	var seen []location.Binding
	got, err := s.Apply(ctx, "1000", func(cur []location.Binding) ([]location.Binding, []string, error) {
		seen = slices.Clone(cur)
		cur[0].Contact = "sip:scribbled" // the slice is fn's to keep or change
		return []location.Binding{a2, c}, []string{b.Contact, "sip:unknown"}, nil
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantList(t, "Apply current", seen, []location.Binding{a, b})
	a2.AOR = "1000"
	wantList(t, "Apply result", got, []location.Binding{a2, c})
	wantBindings(t, s, "1000", a2, c)

	// A contact both deleted and put ends up put.
	c2 := c
	c2.CSeq++
	got, err = s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
		return []location.Binding{c2}, []string{c2.Contact}, nil
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantList(t, "Apply del+put", got, []location.Binding{a2, c2})

	// remove_existing: drop everything, register one new contact.
	d := binding("1000", "sip:1000@192.168.1.14:5060", now.Add(time.Hour))
	got, err = s.Apply(ctx, "1000", func(cur []location.Binding) ([]location.Binding, []string, error) {
		var del []string
		for _, x := range cur {
			del = append(del, x.Contact)
		}
		return []location.Binding{d}, del, nil
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantList(t, "Apply remove_existing", got, []location.Binding{d})

	// A no-op Apply reports the current bindings; so does one on a new AOR.
	got, err = s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) { return nil, nil, nil })
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantList(t, "no-op Apply", got, []location.Binding{d})
	got, err = s.Apply(ctx, "5555", func(cur []location.Binding) ([]location.Binding, []string, error) {
		if len(cur) != 0 {
			t.Errorf("Apply on a new AOR: current = %v", cur)
		}
		return nil, nil, nil
	})
	if err != nil || len(got) != 0 {
		t.Errorf("no-op Apply on a new AOR = %v, %v; want none", got, err)
	}

	// Deleting the last contact empties the AOR.
	got, err = s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
		return nil, []string{d.Contact, expired.Contact}, nil
	})
	if err != nil || len(got) != 0 {
		t.Errorf("Apply deleting all = %v, %v; want none", got, err)
	}
	wantBindings(t, s, "1000")
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	wantList(t, "All", all, nil)
}

func testApplyRejects(t *testing.T, s location.Store) {
	ctx := context.Background()
	now := time.Now()
	a := binding("1000", "sip:1000@192.168.1.10:5060", now.Add(time.Hour))
	a.CSeq = 10
	mustPut(t, s, a)
	fresh := binding("1000", "sip:1000@192.168.1.99:5060", now.Add(time.Hour))
	stale := a
	stale.CSeq = 10
	stale.Expires = now.Add(3 * time.Hour)
	other := binding("2000", "sip:2000@192.168.1.10:5060", now.Add(time.Hour))
	errFn := errors.New("max contacts")

	tests := []struct {
		name    string
		put     []location.Binding
		del     []string
		fnErr   error
		wantErr string
		is      error
	}{
		{name: "fn error", put: []location.Binding{fresh}, del: []string{a.Contact}, fnErr: errFn, is: errFn},
		{name: "out of order", put: []location.Binding{fresh, stale}, del: []string{"sip:x"}, is: location.ErrOutOfOrder},
		{name: "other AOR", put: []location.Binding{fresh, other}, wantErr: "2000"},
		{name: "no contact", put: []location.Binding{{Expires: now.Add(time.Hour)}}, wantErr: "contact"},
		{name: "contact twice", put: []location.Binding{fresh, fresh}, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
				return tt.put, tt.del, tt.fnErr
			})
			switch {
			case err == nil:
				t.Fatalf("Apply = %v, nil; want an error", got)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Apply error %v, want %v", err, tt.is)
			case tt.wantErr != "" && !containsFold(err.Error(), tt.wantErr):
				t.Errorf("Apply error %q, want it to mention %q", err, tt.wantErr)
			}
			wantBindings(t, s, "1000", a) // nothing committed
			wantBindings(t, s, "2000")
		})
	}
}

// testApplyConcurrentCounter makes many goroutines increment one binding's
// CSeq through Apply; a lost update would leave it short.
func testApplyConcurrentCounter(t *testing.T, s location.Store) {
	ctx := context.Background()
	const workers, rounds = 8, 25
	base := binding("1000", "sip:1000@192.168.1.10:5060", time.Now().Add(time.Hour))
	base.CSeq = 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				_, err := s.Apply(ctx, "1000", func(cur []location.Binding) ([]location.Binding, []string, error) {
					next := base
					if len(cur) == 1 {
						next.CSeq = cur[0].CSeq + 1
					} else if len(cur) > 1 {
						return nil, nil, fmt.Errorf("%d bindings", len(cur))
					} else {
						next.CSeq = 1
					}
					next.Updated = time.Now()
					return []location.Binding{next}, nil, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Concurrent readers must always see exactly one binding.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := s.Lookup(ctx, "1000")
			if err != nil || len(got) > 1 {
				t.Errorf("Lookup during Apply = %v, %v", got, err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Apply: %v", err)
	}
	got, err := s.Lookup(ctx, "1000")
	if err != nil || len(got) != 1 {
		t.Fatalf("Lookup = %v, %v; want one binding", got, err)
	}
	if got[0].CSeq != workers*rounds {
		t.Errorf("CSeq = %d after %d increments: lost updates", got[0].CSeq, workers*rounds)
	}
}

// testApplyConcurrentMaxContacts races registrations of distinct contacts
// against a max_contacts limit; exactly the limit may win.
func testApplyConcurrentMaxContacts(t *testing.T, s location.Store) {
	ctx := context.Background()
	const workers, limit = 24, 5
	errFull := errors.New("max contacts reached")
	var wg sync.WaitGroup
	results := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			b := binding("", fmt.Sprintf("sip:1000@10.1.0.%d:5060", i), time.Now().Add(time.Hour))
			b.CallID = fmt.Sprintf("call-%d", i)
			_, err := s.Apply(ctx, "1000", func(cur []location.Binding) ([]location.Binding, []string, error) {
				if len(cur) >= limit {
					return nil, nil, errFull
				}
				return []location.Binding{b}, nil, nil
			})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errFull):
			t.Errorf("Apply: %v", err)
		}
	}
	got, err := s.Lookup(ctx, "1000")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if won != limit || len(got) != limit {
		t.Errorf("%d registrations accepted, %d bindings stored; want %d", won, len(got), limit)
	}
}

func testConcurrentReadWrite(t *testing.T, s location.Store) {
	ctx := context.Background()
	const aors, rounds = 20, 20
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for r := range rounds {
				for a := range aors {
					aor := fmt.Sprint(1000 + a)
					b := binding(aor, fmt.Sprintf("sip:%s@10.0.%d.1:5060", aor, w), time.Now().Add(time.Hour))
					b.CallID = fmt.Sprintf("w%d", w)
					b.CSeq = uint32(r + 1)
					if err := s.Put(ctx, b); err != nil {
						t.Errorf("Put: %v", err)
						return
					}
				}
			}
		})
		wg.Go(func() {
			for range rounds * aors {
				if _, err := s.Lookup(ctx, fmt.Sprint(1000+w)); err != nil {
					t.Errorf("Lookup: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			if _, err := s.All(ctx); err != nil {
				t.Errorf("All: %v", err)
				return
			}
			if _, err := s.Expire(ctx, time.Now()); err != nil {
				t.Errorf("Expire: %v", err)
				return
			}
		}
	})
	wg.Wait()
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(all) != aors*4 {
		t.Errorf("All has %d bindings, want %d", len(all), aors*4)
	}
	for _, b := range all {
		if b.CSeq != rounds {
			t.Errorf("%s %s: CSeq %d, want %d", b.AOR, b.Contact, b.CSeq, rounds)
		}
	}
}

func testCanceledContext(t *testing.T, s location.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := binding("1000", "sip:1000@192.168.1.10:5060", time.Now().Add(time.Hour))
	if err := s.Put(ctx, b); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v", err)
	}
	if _, err := s.Apply(ctx, "1000", func([]location.Binding) ([]location.Binding, []string, error) {
		return []location.Binding{b}, nil, nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a canceled context: %v", err)
	}
	wantBindings(t, s, "1000")
}
