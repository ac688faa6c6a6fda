package gctune

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

const (
	minPercent = 100 // Go's default: never collect more often than that
	maxPercent = 1000
	// DefaultFloorMax caps the default floor; an eighth of the machine's
	// (or the cgroup's) memory below that.
	DefaultFloorMax = 512 << 20
)

// DefaultFloor is an eighth of the memory available to the process,
// capped at DefaultFloorMax.
func DefaultFloor() uint64 {
	avail := physicalMemory()
	if c := cgroupLimit(); c > 0 && (avail == 0 || c < avail) {
		avail = c
	}
	if avail == 0 {
		return 64 << 20
	}
	return min(avail/8, DefaultFloorMax)
}

// Percent is the GOGC percentage that lets a heap of live bytes grow to
// floor before the next cycle, within [100, 1000].
func Percent(live, floor uint64) int {
	if live == 0 || floor <= live {
		return minPercent
	}
	p := (floor - live) * 100 / live
	return int(min(max(p, minPercent), maxPercent))
}

// Tune adjusts the collector's percentage after every cycle until ctx
// ends, and restores the one it found. It does nothing when GOGC is set in
// the environment or floor is 0.
func Tune(ctx context.Context, floor uint64, log *slog.Logger) {
	if floor == 0 {
		return
	}
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GC target left to GOGC from the environment", "GOGC", v)
		return
	}
	log.Debug("GC heap floor", "MiB", floor>>20)
	samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	orig := debug.SetGCPercent(minPercent)
	defer debug.SetGCPercent(orig)
	cur, last := minPercent, uint64(0)
	// Polling is enough: the percentage only needs to follow the live
	// heap, which moves with the number of calls up, not per cycle.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(samples)
		cycles, live := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		if cycles == last {
			continue
		}
		last = cycles
		if p := Percent(live, floor); p != cur {
			debug.SetGCPercent(p)
			cur = p
		}
	}
}

// cgroupLimit is the cgroup v2 memory.max of the process, 0 when there is
// none.
func cgroupLimit() uint64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max"
	}
	return n
}
