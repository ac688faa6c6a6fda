package sqlite_test

import (
	"context"
	"path/filepath"
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
