package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/storage/sqlite"
)

const (
	benchAORs = 1000
	// benchConcurrency is the number of REGISTERs in flight per CPU: the
	// registrar handles each request on its own goroutine, so group commit
	// sees many writers even on 2 cores.
	benchConcurrency = 64
)

// benchBindings registers one contact for each of benchAORs AORs.
func benchBindings(b *testing.B, s location.Store) []location.Binding {
	b.Helper()
	ctx := context.Background()
	bs := make([]location.Binding, benchAORs)
	for i := range bs {
		aor := fmt.Sprint(1000 + i)
		bs[i] = location.Binding{
			AOR: aor, Contact: "sip:" + aor + "@192.168.1.10:5060;transport=udp",
			Received: "203.0.113.7:5060", Transport: "udp", LocalAddr: "192.0.2.1:5060",
			CallID: "reg-" + aor, CSeq: 1, Expires: time.Now().Add(time.Hour), Q: location.NoQ,
			UserAgent: "Yealink SIP-T46S 66.86.0.15",
		}
		if err := s.Put(ctx, bs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return bs
}

// meter measures what wall-clock ns/op hides on a shared machine: the CPU
// time the process spent per op, the bytes it passed to write(2) per op (WAL
// write amplification) and the mean group-commit batch.
type meter struct {
	db     *sqlite.DB
	stats  sqlite.Stats
	cpu    time.Duration
	wchar  int64
	hasIO  bool
	hasCPU bool
}

func startMeter(db *sqlite.DB) *meter {
	m := &meter{db: db, stats: db.Stats()}
	m.cpu, m.hasCPU = cpuTime()
	m.wchar, m.hasIO = writtenBytes()
	return m
}

func (m *meter) report(b *testing.B) {
	st := m.db.Stats()
	if c := st.Commits - m.stats.Commits; c > 0 {
		b.ReportMetric(float64(st.Writes-m.stats.Writes)/float64(c), "writes/commit")
	}
	if cpu, ok := cpuTime(); ok && m.hasCPU {
		b.ReportMetric(float64(cpu-m.cpu)/float64(b.N), "cpu-ns/op")
	}
	if w, ok := writtenBytes(); ok && m.hasIO {
		b.ReportMetric(float64(w-m.wchar)/float64(b.N), "write-B/op")
	}
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// writtenBytes is the process's wchar from /proc/self/io (Linux only).
func writtenBytes() (int64, bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// BenchmarkPutRefresh is the registrar's common case: REGISTER refreshes
// of existing bindings (same AOR and contact, higher CSeq, new expiry)
// spread over 1000 AORs, many in flight at once. Put writes every binding
// whole: this is the write path's cost.
func BenchmarkPutRefresh(b *testing.B) {
	db, _ := openTemp(b)
	s := db.Locations()
	bs := benchBindings(b, s)
	ctx := context.Background()
	var worker atomic.Uint64
	m := startMeter(db)
	b.ReportAllocs()
	b.SetParallelism(benchConcurrency)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		callID := fmt.Sprintf("bench-%d", worker.Add(1)) // own Call-ID: never out of order with other workers
		rnd := rand.New(rand.NewPCG(uint64(len(callID)), worker.Load()))
		var cseq uint32
		for pb.Next() {
			bd := bs[rnd.IntN(benchAORs)]
			cseq++
			bd.CallID, bd.CSeq = callID, cseq
			bd.Expires = time.Now().Add(time.Hour)
			bd.Updated = time.Time{}
			if err := s.Put(ctx, bd); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	m.report(b)
}

// BenchmarkApply is a whole REGISTER through Apply: refresh the phone's
// contact if it is registered, else add it under a max_contacts limit.
//
// "every" writes each refresh (WithEveryRefresh, Kamailio's usrloc
// db_mode 1); "needed" is the default, where refreshes this frequent (each
// AOR many times within its hour) are not written (locationBackend).
func BenchmarkApply(b *testing.B) {
	b.Run("every", func(b *testing.B) { benchApply(b, sqlite.WithEveryRefresh()) })
	b.Run("needed", func(b *testing.B) { benchApply(b) })
}

func benchApply(b *testing.B, opts ...sqlite.Option) {
	db, _ := openTemp(b, opts...)
	s := db.Locations()
	bs := benchBindings(b, s)
	ctx := context.Background()
	var worker atomic.Uint64
	errFull := fmt.Errorf("max contacts")
	m := startMeter(db)
	b.ReportAllocs()
	b.SetParallelism(benchConcurrency)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rnd := rand.New(rand.NewPCG(1, worker.Add(1)))
		for pb.Next() {
			reg := bs[rnd.IntN(benchAORs)]
			_, err := s.Apply(ctx, reg.AOR, func(cur []location.Binding) ([]location.Binding, []string, error) {
				nb := reg
				nb.Expires = time.Now().Add(time.Hour)
				nb.Updated = time.Time{}
				found := false
				for _, c := range cur {
					if c.Contact == reg.Contact {
						nb.CallID, nb.CSeq = c.CallID, c.CSeq+1
						found = true
					}
				}
				if !found && len(cur) >= 3 {
					return nil, nil, errFull
				}
				return []location.Binding{nb}, nil, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	m.report(b)
}

// BenchmarkLookup is the dial path: it never touches SQLite.
func BenchmarkLookup(b *testing.B) {
	db, _ := openTemp(b)
	s := db.Locations()
	bs := benchBindings(b, s)
	ctx := context.Background()
	var worker atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rnd := rand.New(rand.NewPCG(2, worker.Add(1)))
		for pb.Next() {
			got, err := s.Lookup(ctx, bs[rnd.IntN(benchAORs)].AOR)
			if err != nil || len(got) != 1 {
				b.Errorf("Lookup = %v, %v", got, err)
				return
			}
		}
	})
}
