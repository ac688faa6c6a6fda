// Package cdrtest holds records shared by the CDR tests and benchmarks of
// several packages (the collector's backends, the SQLite store).
package cdrtest

import (
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
)

// Answered is a typical record of the i-th answered B2BUA call: distinct
// channels, unique IDs and times per i.
func Answered(i int) cdr.Record {
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
