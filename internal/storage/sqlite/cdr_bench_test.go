package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/cdr/cdrtest"
)

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
				recs[i] = cdrtest.Answered(i)
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
