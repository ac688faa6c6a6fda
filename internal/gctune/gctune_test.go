package gctune

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 512 * mb, 100},        // no cycle yet
		{100 * mb, 512 * mb, 412}, // grows to the floor
		{256 * mb, 512 * mb, 100}, // the floor is twice the live heap: Go's default
		{400 * mb, 512 * mb, 100}, // never below Go's default
		{600 * mb, 512 * mb, 100}, // above the floor
		{10 * mb, 512 * mb, 1000}, // capped
		{100 * mb, 0, 100},        // no floor
	} {
		if got := Percent(tc.live, tc.floor); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tc.live/mb, tc.floor/mb, got, tc.want)
		}
	}
}

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

var sink []byte

// unsetGOGC removes GOGC from the environment for the test (Tune leaves
// the collector to it when set).
func unsetGOGC(t *testing.T) {
	if _, ok := os.LookupEnv("GOGC"); ok {
		t.Setenv("GOGC", "") // restores it after the test
		os.Unsetenv("GOGC")
	}
}

// startTune runs Tune with a 256 MiB floor; stop ends it and waits.
func startTune(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Tune(ctx, 256<<20, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	return func() { cancel(); <-done }
}

// TestTune: under an allocation rate above BusyRate, after a cycle with a
// small live heap the percentage lets the heap grow to the floor; when
// Tune ends the percentage it found is back.
func TestTune(t *testing.T) {
	unsetGOGC(t)
	before := gcPercent()
	stop := startTune(t)
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() <= 100 && time.Now().Before(deadline) {
		for range 4 { // 200 MiB/s
			sink = make([]byte, 1<<20)
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if p := gcPercent(); p <= 100 {
		t.Fatalf("GC percent %d after cycles with a live heap far below the floor, want above 100", p)
	}
	stop()
	if p := gcPercent(); p != before {
		t.Errorf("GC percent %d after Tune ended, want the original %d", p, before)
	}
}

// TestTuneIdle: while the process allocates little (below BusyRate) the
// floor does not apply: collections stay at Go's default target.
func TestTuneIdle(t *testing.T) {
	unsetGOGC(t)
	defer startTune(t)()
	for range 100 { // 2.5 s at about 2.5 MiB/s
		sink = make([]byte, 64<<10)
		runtime.GC()
		time.Sleep(25 * time.Millisecond)
		if p := gcPercent(); p != 100 {
			t.Fatalf("GC percent %d while allocating %d MiB/s, below BusyRate", p, 64<<10*40>>20)
		}
	}
}

// TestTuneLeavesGOGC: an administrator's GOGC wins.
func TestTuneLeavesGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := gcPercent()
	stop := startTune(t)
	for range 15 {
		sink = make([]byte, 1<<20)
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		if p := gcPercent(); p != before {
			t.Errorf("GC percent changed to %d with GOGC set", p)
			break
		}
	}
	stop()
}
