package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/storage/sqlite"
	"github.com/gopbx/gopbx/internal/storage/storagetest"
)

func openTemp(t testing.TB, opts ...sqlite.Option) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gopbx.db")
	db, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestLocationStore(t *testing.T) {
	storagetest.TestLocationStore(t, func(t *testing.T) location.Store {
		db, _ := openTemp(t)
		return db.Locations()
	})
}

func TestLocationStoreSmallBatches(t *testing.T) {
	storagetest.TestLocationStore(t, func(t *testing.T) location.Store {
		db, _ := openTemp(t, sqlite.WithMaxBatch(1))
		return db.Locations()
	})
}

func TestLocationStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gopbx.db")
	storagetest.TestLocationStoreReopen(t, func(t *testing.T) (location.Store, func()) {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db.Locations(), func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
}

// rawDB opens path with database/sql directly, to inspect what Open left.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenSettings(t *testing.T) {
	_, path := openTemp(t)
	raw := rawDB(t, path)
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var pageSize int
	if err := raw.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil || pageSize != 1024 {
		t.Errorf("page_size = %d, %v; want 1024", pageSize, err)
	}
	var version int
	var name string
	if err := raw.QueryRow("SELECT version, name FROM schema_version ORDER BY version DESC LIMIT 1").Scan(&version, &name); err != nil {
		t.Fatalf("schema_version: %v", err)
	}
	if version != 2 || name != "cdr" {
		t.Errorf("schema version = %d %q, want 2 cdr", version, name)
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	tests := []struct {
		name string
		path string
		opts []sqlite.Option
		want string
	}{
		{"empty path", "", nil, "plain file path"},
		{"memory", ":memory:", nil, "plain file path"},
		{"uri", "file:x.db", nil, "plain file path"},
		{"query", filepath.Join(dir, "a.db?mode=ro"), nil, "plain file path"},
		{"synchronous", filepath.Join(dir, "b.db"), []sqlite.Option{sqlite.WithSynchronous("OFF")}, "synchronous"},
		{"batch", filepath.Join(dir, "c.db"), []sqlite.Option{sqlite.WithMaxBatch(0)}, "max batch"},
		{"missing dir", filepath.Join(dir, "nope", "d.db"), nil, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, tt.path, tt.opts...)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want an error mentioning %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestOpenNewerSchema(t *testing.T) {
	db, path := openTemp(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	if _, err := raw.Exec("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db2, err := sqlite.Open(context.Background(), path)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q, want it to mention a newer schema", err)
	}
}

func TestClosed(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	s := db.Locations()
	b := location.Binding{AOR: "1000", Contact: "sip:1000@10.0.0.1", Expires: time.Now().Add(time.Hour), Q: location.NoQ}
	if err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	gone := location.Binding{AOR: "2000", Contact: "sip:2000@10.0.0.2", Expires: time.Now().Add(-time.Hour), Q: location.NoQ}
	if err := s.Put(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	b.CSeq++
	if err := s.Put(ctx, b); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Put after Close: %v, want ErrClosed", err)
	}
	if exp, err := s.Expire(ctx, time.Now()); !errors.Is(err, sqlite.ErrClosed) || len(exp) != 0 {
		t.Errorf("Expire after Close = %v, %v; want ErrClosed", exp, err)
	}
	if all, _ := s.All(ctx); len(all) != 2 {
		t.Errorf("All after a failed Expire = %v, want both bindings", all)
	}
	// The failed Put changed nothing in memory either.
	got, err := s.Lookup(ctx, "1000")
	if err != nil || len(got) != 1 || got[0].CSeq != 0 {
		t.Errorf("Lookup after failed Put = %+v, %v", got, err)
	}
}

// TestCloseDrains checks that writes queued when Close is called are
// committed, and that each caller sees either success or ErrClosed.
func TestCloseDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gopbx.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := db.Locations()
	const n = 200
	var wg sync.WaitGroup
	ok := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			b := location.Binding{AOR: fmt.Sprint(i), Contact: "sip:x@10.0.0.1", Expires: time.Now().Add(time.Hour), Q: location.NoQ}
			err := s.Put(ctx, b)
			switch {
			case err == nil:
				ok[i] = true
			case !errors.Is(err, sqlite.ErrClosed):
				t.Errorf("Put: %v", err)
			}
		})
	}
	time.Sleep(time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		got, err := db.Locations().Lookup(ctx, fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		if stored := len(got) == 1; stored != ok[i] {
			t.Errorf("AOR %d: Put succeeded %v, stored after reopen %v", i, ok[i], stored)
		}
	}
}

// TestGroupCommit checks that concurrent writers share transactions: many
// Puts in flight must take far fewer commits than Puts.
func TestGroupCommit(t *testing.T) {
	db, _ := openTemp(t)
	s := db.Locations()
	ctx := context.Background()
	const writers, rounds = 64, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				b := location.Binding{AOR: fmt.Sprint(w), Contact: "sip:x@10.0.0.1", CallID: "c", CSeq: uint32(r + 1),
					Expires: time.Now().Add(time.Hour), Q: location.NoQ}
				if err := s.Put(ctx, b); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := db.Stats()
	t.Logf("%+v", st)
	if st.Writes != writers*rounds || st.Failed != 0 {
		t.Errorf("Stats = %+v, want %d writes and no failures", st, writers*rounds)
	}
	if st.Commits*4 > st.Writes {
		t.Errorf("Stats = %+v: fewer than 4 writes per commit with %d concurrent writers", st, writers)
	}
}

// TestFailedWriteAlone checks that a change the database rejects fails
// alone, leaves memory untouched, and does not fail the changes committed
// in the same batch.
func TestFailedWriteAlone(t *testing.T) {
	db, path := openTemp(t)
	raw := rawDB(t, path)
	if _, err := raw.Exec(`CREATE TRIGGER reject_bad BEFORE INSERT ON location
WHEN NEW.aor = 'bad' BEGIN SELECT RAISE(ABORT, 'bad aor'); END`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	s := db.Locations()
	ctx := context.Background()
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			aor := fmt.Sprint(i)
			if i%10 == 0 {
				aor = "bad"
			}
			b := location.Binding{AOR: aor, Contact: fmt.Sprintf("sip:%d@10.0.0.1", i), Expires: time.Now().Add(time.Hour), Q: location.NoQ}
			errs[i] = s.Put(ctx, b)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if bad := i%10 == 0; bad != (err != nil) {
			t.Errorf("Put %d: %v", i, err)
		} else if bad && !strings.Contains(err.Error(), "bad aor") {
			t.Errorf("Put %d: error %q, want the trigger's message", i, err)
		}
	}
	if got, _ := s.Lookup(ctx, "bad"); len(got) != 0 {
		t.Errorf("rejected bindings are visible: %v", got)
	}
	all, err := s.All(ctx)
	if err != nil || len(all) != n-n/10 {
		t.Errorf("All = %d bindings, %v; want %d", len(all), err, n-n/10)
	}
}

// TestCheckpoint checks that the background checkpointer runs: SQLite's own
// automatic checkpoint is off, so without it the WAL would grow forever.
func TestCheckpoint(t *testing.T) {
	db, _ := openTemp(t)
	s := db.Locations()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for r := range 100 {
				b := location.Binding{AOR: fmt.Sprint(w*1000 + r), Contact: "sip:x@10.0.0.1",
					Expires: time.Now().Add(time.Hour), Q: location.NoQ}
				if err := s.Put(ctx, b); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for db.Stats().Checkpoints == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := db.Stats()
	if st.Checkpoints == 0 || st.CheckpointFailed != 0 {
		t.Fatalf("Stats = %+v, want checkpoints without failures", st)
	}
}

// storedRow reads a binding's CSeq and Expires from the database file
// itself, as a restart after a crash would find them.
func storedRow(t *testing.T, path, aor, contact string) (cseq int64, expires time.Time) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ns int64
	if err := raw.QueryRow(`SELECT cseq, expires FROM location WHERE aor = ? AND contact = ?`, aor, contact).Scan(&cseq, &ns); err != nil {
		t.Fatalf("stored row of %s %s: %v", aor, contact, err)
	}
	return cseq, time.Unix(0, ns)
}

// TestRefreshWrittenWhenNeeded: a refresh is not written while the stored
// row still has half of the refreshed period to run, is written once it
// has less, and the skipped ones are written at Close and by the flush
// loop. WithEveryRefresh writes them all.
func TestRefreshWrittenWhenNeeded(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	bind := func(aor string, cseq uint32, expires time.Duration) location.Binding {
		return location.Binding{AOR: aor, Contact: "sip:" + aor + "@10.0.0.1", CallID: "c-" + aor, CSeq: cseq,
			Expires: now.Add(expires), Updated: now.Add(time.Duration(cseq) * time.Second), Q: location.NoQ}
	}
	path := filepath.Join(t.TempDir(), "gopbx.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := db.Locations()
	// put registers b as the registrar does, through Apply: a binding
	// that changes only Call-ID, CSeq, Expires and Updated is a refresh.
	put := func(b location.Binding) {
		t.Helper()
		if _, err := s.Apply(ctx, b.AOR, func([]location.Binding) ([]location.Binding, []string, error) {
			return []location.Binding{b}, nil, nil
		}); err != nil {
			t.Fatalf("Apply %s CSeq %d: %v", b.AOR, b.CSeq, err)
		}
	}

	// 1000 registered for an hour and refreshed at once: the stored row
	// (an hour left) outlives half the new period, so it stays as it is.
	put(bind("1000", 1, time.Hour))
	put(bind("1000", 2, time.Hour+time.Second))
	if cseq, _ := storedRow(t, path, "1000", "sip:1000@10.0.0.1"); cseq != 1 {
		t.Errorf("refresh of a fresh row written: stored CSeq %d, want 1", cseq)
	}
	if got, _ := s.Lookup(ctx, "1000"); len(got) != 1 || got[0].CSeq != 2 {
		t.Errorf("memory after the refresh: %+v, want CSeq 2", got)
	}
	if n := db.Stats().RefreshesSkipped; n != 1 {
		t.Errorf("RefreshesSkipped = %d, want 1", n)
	}

	// 1001's row has 10 minutes left, less than half of the new hour: written.
	put(bind("1001", 1, 10*time.Minute))
	put(bind("1001", 2, time.Hour))
	if cseq, exp := storedRow(t, path, "1001", "sip:1001@10.0.0.1"); cseq != 2 || !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("refresh of an ageing row: stored CSeq %d expiring %v, want 2 at %v", cseq, exp, now.Add(time.Hour))
	}

	// A deleted binding's skipped refresh is not written back at Close.
	put(bind("1002", 1, time.Hour))
	put(bind("1002", 2, time.Hour))
	if err := s.Delete(ctx, "1002", "sip:1002@10.0.0.1"); err != nil {
		t.Fatal(err)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if cseq, exp := storedRow(t, path, "1000", "sip:1000@10.0.0.1"); cseq != 2 || !exp.Equal(now.Add(time.Hour+time.Second)) {
		t.Errorf("after Close: stored CSeq %d expiring %v, want the skipped refresh (2, %v)", cseq, exp, now.Add(time.Hour+time.Second))
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM location WHERE aor = '1002'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("deleted binding: %d rows (%v), want none", n, err)
	}
	raw.Close()

	// The flush loop writes a skipped refresh within its interval.
	db, err = sqlite.Open(ctx, path, sqlite.WithRefreshFlush(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s = db.Locations()
	put(bind("1000", 3, time.Hour+2*time.Second))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if cseq, _ := storedRow(t, path, "1000", "sip:1000@10.0.0.1"); cseq == 3 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("skipped refresh not flushed within 5 s: stored CSeq %d, want 3", cseq)
		}
	}
	if n := db.Stats().RefreshesSkipped; n != 1 {
		t.Errorf("RefreshesSkipped = %d, want 1 (the refresh was not written at once)", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// WithEveryRefresh: written at once.
	db, err = sqlite.Open(ctx, path, sqlite.WithEveryRefresh())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = db.Locations()
	put(bind("1000", 4, time.Hour+3*time.Second))
	if cseq, _ := storedRow(t, path, "1000", "sip:1000@10.0.0.1"); cseq != 4 {
		t.Errorf("WithEveryRefresh: stored CSeq %d, want 4", cseq)
	}
}
