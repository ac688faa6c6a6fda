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
	// (or the cgroup's) memory below that. 256 MiB took a tenth off a
	// B2BUA call's CPU at 1,500 calls/s (collections every 2 s instead of
	// 0.6 s); 512 a little more for twice the memory.
	DefaultFloorMax = 256 << 20
	// BusyRate is the allocation rate (bytes/s) from which the floor
	// applies. Below it collections are rare and cheap anyway, and the
	// heap of an idle or lightly used PBX stays at twice its live size
	// instead of growing to the floor. 16 MiB/s is about 300 B2BUA calls/s.
	BusyRate = 16 << 20
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
	samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	orig := debug.SetGCPercent(minPercent)
	defer debug.SetGCPercent(orig)
	cur, last := minPercent, uint64(0)
	var busy bool
	var winAllocs uint64
	var winStart time.Time
	// Polling is enough: the percentage only needs to follow the live
	// heap, which moves with the number of calls up, not per cycle.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			metrics.Read(samples)
			cycles, live, allocs := samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
			changed := cycles != last
			if d := now.Sub(winStart); d >= time.Second {
				b := !winStart.IsZero() && float64(allocs-winAllocs)/d.Seconds() >= BusyRate
				changed = changed || b != busy
				busy, winAllocs, winStart = b, allocs, now
			}
			if !changed {
				continue
			}
			last = cycles
			p := minPercent
			if busy {
				p = Percent(live, floor)
			}
			if p != cur {
				debug.SetGCPercent(p)
				cur = p
			}
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
