package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/storage/sqlite"
	"github.com/gopbx/gopbx/internal/storage/storagetest"
)

func TestCDRStore(t *testing.T) {
	storagetest.TestCDRStore(t, func(t *testing.T) cdr.Store {
		db, _ := openTemp(t)
		return db.CDRs()
	})
}

func TestCDRStoreSmallBatches(t *testing.T) {
	storagetest.TestCDRStore(t, func(t *testing.T) cdr.Store {
		db, _ := openTemp(t, sqlite.WithMaxBatch(1))
		return db.CDRs()
	})
}

func TestCDRStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gopbx.db")
	storagetest.TestCDRStoreReopen(t, func(t *testing.T) (cdr.Store, func()) {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db.CDRs(), func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
}

// Records logged together go into one transaction.
func TestCDRBatchOneCommit(t *testing.T) {
	db, _ := openTemp(t)
	before := db.Stats().Commits
	t0 := time.Now()
	recs := make([]cdr.Record, 50)
	for i := range recs {
		recs[i] = cdr.Record{Start: t0, End: t0, UniqueID: "x", Disposition: cdr.Answered}
	}
	if err := cdr.StoreBackend(db.CDRs()).Log(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if n := db.Stats().Commits - before; n != 1 {
		t.Errorf("%d commits for one batch, want 1", n)
	}
}

func TestCDRInsertAfterClose(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gopbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := db.CDRs()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertCDR(context.Background(), cdr.Record{}); err != sqlite.ErrClosed {
		t.Errorf("InsertCDR after Close: %v, want ErrClosed", err)
	}
}

// distinctCDR is record i of a batch with every field its own, so that a
// value bound to the wrong row or column shows.
func distinctCDR(i int, t0 time.Time) cdr.Record {
	s := func(f string) string { return fmt.Sprintf("%s-%d", f, i) }
	start := t0.Add(time.Duration(i) * time.Second)
	r := cdr.Record{
		AccountCode: s("acct"), Src: s("src"), Dst: s("dst"), DContext: s("ctx"),
		CLID: fmt.Sprintf(`"N%d" <%d>`, i, i), Channel: s("PJSIP/a"), DstChannel: s("PJSIP/b"),
		LastApp: s("app"), LastData: s("data"),
		Start: start, Answer: start.Add(time.Duration(i) * time.Millisecond), End: start.Add(time.Minute),
		Duration: int64(60 + i), BillSec: int64(i), Disposition: cdr.Disposition(i % 6),
		AMAFlags: s("ama"), UniqueID: s("uid"), UserField: s("uf"),
		PeerAccount: s("peer"), LinkedID: s("linked"), Sequence: int64(1000 + i),
	}
	if i%5 == 0 {
		r.Answer, r.BillSec = time.Time{}, 0 // stored as 0, read back as zero
	}
	return r
}

// InsertCDRs writes exactly the records it is given, in order, for batch
// sizes around the multi-row statements' chunks (powers of two up to 64).
func TestInsertCDRsChunks(t *testing.T) {
	db, _ := openTemp(t)
	s := db.CDRs()
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var want []cdr.Record
	next := 0
	for _, n := range []int{1, 2, 3, 7, 63, 64, 65, 100, 127, 128, 129, 200} {
		recs := make([]cdr.Record, n)
		for i := range recs {
			recs[i] = distinctCDR(next, t0)
			next++
		}
		before := db.Stats().Commits
		if err := s.InsertCDRs(ctx, recs); err != nil {
			t.Fatalf("InsertCDRs(%d records): %v", n, err)
		}
		if c := db.Stats().Commits - before; c != 1 {
			t.Errorf("InsertCDRs(%d records): %d commits, want 1", n, c)
		}
		want = append(want, recs...)
		got, err := s.ListCDR(ctx, cdr.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("after a batch of %d: %d records, want %d", n, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if !g.Start.Equal(w.Start) || !g.Answer.Equal(w.Answer) || !g.End.Equal(w.End) {
				t.Fatalf("after a batch of %d: record %d times %v %v %v, want %v %v %v", n, i, g.Start, g.Answer, g.End, w.Start, w.Answer, w.End)
			}
			g.Start, g.Answer, g.End = w.Start, w.Answer, w.End
			if g != w {
				t.Fatalf("after a batch of %d: record %d\n got %+v\nwant %+v", n, i, g, w)
			}
		}
	}
}

// A batch is one transaction: a record SQLite refuses fails the whole
// batch, whichever chunk it is in, and the records before it are not kept.
func TestInsertCDRsAllOrNone(t *testing.T) {
	db, path := openTemp(t)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON cdr WHEN NEW.uniqueid = 'uid-bad'
BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	s := db.CDRs()
	ctx := context.Background()
	t0 := time.Now()
	recs := make([]cdr.Record, 70) // chunks of 64, 4 and 2
	for i := range recs {
		recs[i] = distinctCDR(i, t0)
	}
	recs[66].UniqueID = "uid-bad"
	err = s.InsertCDRs(ctx, recs)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("InsertCDRs with a refused record: %v, want the trigger's error", err)
	}
	if got, _ := s.ListCDR(ctx, cdr.Filter{}); len(got) != 0 {
		t.Errorf("%d records kept from a failed batch, want 0", len(got))
	}
	recs[66].UniqueID = "uid-66"
	if err := s.InsertCDRs(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListCDR(ctx, cdr.Filter{}); len(got) != len(recs) {
		t.Errorf("%d records, want %d", len(got), len(recs))
	}
}
