package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
)

// benchCDR is a typical record of an answered B2BUA call.
func benchCDR(i int) cdr.Record {
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	return cdr.Record{
		Src:         "1001",
		Dst:         "1002",
		DContext:    "from-internal",
		CLID:        `"Alice" <1001>`,
		Channel:     fmt.Sprintf("PJSIP/1001-%08x", 2*i),
		DstChannel:  fmt.Sprintf("PJSIP/1002-%08x", 2*i+1),
		LastApp:     "Dial",
		LastData:    "PJSIP/1002,30",
		Start:       start,
		Answer:      start.Add(100 * time.Millisecond),
		End:         start.Add(1100 * time.Millisecond),
		Duration:    1,
		BillSec:     1,
		Disposition: cdr.Answered,
		AMAFlags:    cdr.AMADocumentation,
		UniqueID:    fmt.Sprintf("1714557600.%d", 2*i),
		LinkedID:    fmt.Sprintf("1714557600.%d", 2*i),
		Sequence:    int64(i),
	}
}

// BenchmarkInsertCDRs is the sqlite CDR backend: batches of records, as
// the collector hands them over, into a real file. One op is one record;
// each has its own, increasing start and uniqueid, as calls do, so the
// indexes grow at their ends.
func BenchmarkInsertCDRs(b *testing.B) {
	for _, n := range []int{1, 16, 100} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			db, _ := openTemp(b)
			s := db.CDRs()
			recs := make([]cdr.Record, b.N)
			for i := range recs {
				recs[i] = benchCDR(i)
			}
			ctx := context.Background()
			m := startMeter(db)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += n {
				batch := recs[done:min(done+n, b.N)]
				if err := s.InsertCDRs(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			m.report(b)
		})
	}
}
