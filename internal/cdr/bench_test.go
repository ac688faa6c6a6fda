package cdr_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/cdr/cdrtest"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/storage/sqlite"
)

// usage is the user+system CPU time of the process so far and its
// voluntary context switches (a thread going to sleep, mostly for want of
// a runnable goroutine): with the collector's goroutines working beside
// the benchmark loop, ns/op alone misses most of the cost, and on a
// machine shared with other work the switches vary less than the time.
func usage() (cpu time.Duration, switches int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw
}

func BenchmarkAppendCSV(b *testing.B) {
	r := cdrtest.Answered(1)
	f := *cdr.Default().CSV
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = cdr.AppendCSV(buf[:0], &r, f)
	}
}

// BenchmarkCSVLog is the csv backend with the default cdr.conf (uniqueid,
// userfield, account logs; the records have no account code). One op is
// one Log of batch records.
func BenchmarkCSVLog(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			cfg := cdr.Default()
			csv, err := cdr.NewCSV(b.TempDir(), *cfg.CSV, cfg.AccountLogs)
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]cdr.Record, n)
			for i := range recs {
				recs[i] = cdrtest.Answered(i)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := csv.Log(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCall is one B2BUA call as chansip and Dial publish it, in its
// three bursts of updates: setup (the inbound leg rings, Dial requests the
// outbound leg, which rings), answer (both legs up, bridged) and hangup
// (the far end hangs up, the inbound leg follows).
type benchCall struct{ in, out *channel.Channel }

func (c *benchCall) setup(reg *channel.Registry) {
	c.in = reg.New("PJSIP", "1001", channel.Inbound, fakeDriver{})
	c.in.SetCallerID(channel.CallerID{Name: "Alice", Num: "1001"})
	c.in.SetLocation(channel.Location{Context: "from-internal", Exten: "1002", Priority: 1})
	c.in.SetApp("Dial", "PJSIP/1002,30")
	c.in.SetState(channel.StateRing)
	out, err := reg.Request(context.Background(), "PJSIP", "1002", c.in)
	if err != nil {
		panic(err)
	}
	c.out = out
	c.out.SetState(channel.StateRinging)
}

func (c *benchCall) answer() {
	c.out.SetState(channel.StateUp)
	c.in.SetState(channel.StateUp)
	channel.Bridge(c.in, c.out)
}

func (c *benchCall) hangup() {
	c.out.Gone(channel.CauseNormalClearing)
	c.in.Hangup(channel.CauseNormalClearing)
}

// countingBackend counts what it is given.
type countingBackend struct{ n atomic.Int64 }

func (c *countingBackend) Log(_ context.Context, recs []cdr.Record) error {
	c.n.Add(int64(len(recs)))
	return nil
}

// benchCollector runs b.N calls through a collector writing to backends,
// shutdown included, and reports the process's CPU time per call. Calls
// overlap as in the B2BUA benchmark: a call is answered lag/2 calls after
// its setup and hung up lag calls after it. With rate > 0 a call starts
// every 1/rate s; lag = rate then makes them 1 s calls.
func benchCollector(b *testing.B, rate, lag int, cfg *cdr.Config, backends func(b *testing.B) []cdr.Option) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := channel.NewRegistry(log)
	reg.RegisterTech("PJSIP", fakeTech{})
	count := &countingBackend{}
	// A queue that never fills: a dropped update can change a record.
	opts := append([]cdr.Option{cdr.WithLogger(log), cdr.WithQueueSize(1 << 17), cdr.WithBackend("count", count)}, backends(b)...)
	col := cdr.New(reg, cfg, opts...)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, sw0 := usage()
	t0 := time.Now()
	calls := make([]benchCall, b.N)
	for i := 0; i < b.N+lag; i++ {
		if rate > 0 {
			if due := t0.Add(time.Duration(i) * time.Second / time.Duration(rate)); time.Until(due) > 0 {
				time.Sleep(time.Until(due))
			}
		}
		if i < b.N {
			calls[i].setup(reg)
		}
		if j := i - lag/2; j >= 0 && j < b.N {
			calls[j].answer()
		}
		if j := i - lag; j >= 0 {
			calls[j].hangup()
		}
	}
	if err := col.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu, sw := usage()
	b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(sw-sw0)/float64(b.N), "vcsw/op")
	if got := count.n.Load(); cfg.Enable && got != int64(b.N) {
		b.Fatalf("%d records for %d calls", got, b.N)
	}
}

func noBackends(*testing.B) []cdr.Option { return nil }

// csvAndSQLite are gopbx's default backends: Master.csv and the sqlite
// cdr table.
func csvAndSQLite(b *testing.B) []cdr.Option {
	dir := b.TempDir()
	cfg := cdr.Default()
	csv, err := cdr.NewCSV(filepath.Join(dir, cdr.CSVDirName), *cfg.CSV, cfg.AccountLogs)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "gopbx.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return []cdr.Option{cdr.WithBackend("csv", csv), cdr.WithBackend("sqlite", cdr.StoreBackend(db.CDRs()))}
}

// BenchmarkCollector is the whole CDR path of a call, from the channel
// updates to the written records. The paced ones run 1,500 calls/s,
// the B2BUA benchmark's rate and 1 s calls, where updates trickle in
// rather than queue up; run them with -benchtime=3000x (3 s).
func BenchmarkCollector(b *testing.B) {
	off := cdr.Default()
	off.Enable = false
	b.Run("backends=none", func(b *testing.B) { benchCollector(b, 0, 100, cdr.Default(), noBackends) })
	b.Run("backends=csv+sqlite", func(b *testing.B) { benchCollector(b, 0, 100, cdr.Default(), csvAndSQLite) })
	// The calls alone, to subtract from the others.
	b.Run("paced/cdr=off", func(b *testing.B) { benchCollector(b, 1500, 1500, off, noBackends) })
	b.Run("paced/backends=none", func(b *testing.B) { benchCollector(b, 1500, 1500, cdr.Default(), noBackends) })
	b.Run("paced/backends=csv+sqlite", func(b *testing.B) { benchCollector(b, 1500, 1500, cdr.Default(), csvAndSQLite) })
}
