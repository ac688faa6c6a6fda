package cdr

import (
	"math/rand/v2"
	"testing"
	"time"
)

// appendTime writes what AppendFormat(TimeFormat) does, in any zone.
func TestAppendTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	times := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 0, time.UTC),
		time.Date(2024, 3, 31, 2, 30, 0, 0, berlin),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now(),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		times = append(times, time.Unix(rnd.Int64N(1<<36)-1<<35, rnd.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, loc := range []*time.Location{time.UTC, time.Local, berlin} {
			tl := tm.In(loc)
			if got, want := string(appendTime([]byte("x"), tl)), "x"+tl.Format(TimeFormat); got != want {
				t.Errorf("appendTime(%v) = %q, want %q", tl, got, want)
			}
		}
	}
}
