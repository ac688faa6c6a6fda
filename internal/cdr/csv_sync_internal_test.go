package cdr

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCSVSyncCadence: every batch is written before Log returns, the first
// one is fsynced at once, and the batches that follow within a second are
// fsynced together by one timed sync.
func TestCSVSyncCadence(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCSV(dir, CSVFormat{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var synced []string
	c.fsync = func(path string) error {
		mu.Lock()
		synced = append(synced, filepath.Base(path))
		mu.Unlock()
		return fsyncPath(path)
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(synced)
	}
	now := time.Now()
	rec := Record{UniqueID: "1", Start: now, End: now, Disposition: Answered}
	lines := func() int {
		b, err := os.ReadFile(filepath.Join(dir, MasterFile))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range b {
			if c == '\n' {
				n++
			}
		}
		return n
	}
	for i := 1; i <= 5; i++ {
		if err := c.Log(context.Background(), []Record{rec}); err != nil {
			t.Fatal(err)
		}
		if got := lines(); got != i {
			t.Fatalf("after Log %d: %d lines in %s, want %d (written before Log returns)", i, got, MasterFile, i)
		}
	}
	if got := count(); got != 1 {
		t.Fatalf("%d fsyncs right after 5 batches, want 1 (the first)", got)
	}
	deadline := time.Now().Add(3 * csvSyncEvery)
	for count() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := count(); got != 2 {
		t.Fatalf("%d fsyncs a second later, want 2 (one timed sync for batches 2-5)", got)
	}
	time.Sleep(csvSyncEvery + 200*time.Millisecond)
	if got := count(); got != 2 {
		t.Errorf("%d fsyncs with nothing written since, want still 2", got)
	}
}
