package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
)

// TestCDRStore runs the cdr.Store contract against the stores open
// returns. Each call to open must return a new, empty store; open
// registers its own cleanup with t.
func TestCDRStore(t *testing.T, open func(t *testing.T) cdr.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s cdr.Store)
	}{
		{"InsertList", testCDRInsertList},
		{"Order", testCDROrder},
		{"Filter", testCDRFilter},
		{"Batch", testCDRBatch},
		{"Concurrent", testCDRConcurrent},
		{"CanceledContext", testCDRCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// TestCDRStoreReopen checks that records survive a restart. Every call to
// open must open the same durable data and return the store with a
// function that closes it; the first call sees an empty store.
func TestCDRStoreReopen(t *testing.T, open func(t *testing.T) (s cdr.Store, close func())) {
	t.Helper()
	ctx := context.Background()
	s, closeStore := open(t)
	t0 := time.Now()
	a := cdrRecord("1.1", t0)
	b := cdrRecord("1.2", t0.Add(time.Second))
	b.Answer = time.Time{}
	b.BillSec = 0
	b.Disposition = cdr.NoAnswer
	for _, r := range []cdr.Record{a, b} {
		if err := s.InsertCDR(ctx, r); err != nil {
			t.Fatalf("InsertCDR: %v", err)
		}
	}
	closeStore()

	s, closeStore = open(t)
	defer closeStore()
	wantCDRs(t, s, cdr.Filter{}, a, b)
	c := cdrRecord("1.3", t0.Add(2*time.Second))
	if err := s.InsertCDR(ctx, c); err != nil {
		t.Fatalf("InsertCDR after reopen: %v", err)
	}
	wantCDRs(t, s, cdr.Filter{}, a, b, c)
}

// cdrRecord returns an answered record with every field set.
func cdrRecord(uniqueID string, start time.Time) cdr.Record {
	return cdr.Record{
		AccountCode: "acme",
		Src:         "1001",
		Dst:         "1002",
		DContext:    "from-internal",
		CLID:        `"Alice \"Al\"" <1001>`,
		Channel:     "PJSIP/1001-00000001",
		DstChannel:  "PJSIP/1002-00000002",
		LastApp:     "Dial",
		LastData:    "PJSIP/1002,30,tT",
		Start:       start,
		Answer:      start.Add(5*time.Second + 123456789),
		End:         start.Add(65*time.Second + 987654321),
		Duration:    65,
		BillSec:     60,
		Disposition: cdr.Answered,
		AMAFlags:    cdr.AMADocumentation,
		UniqueID:    uniqueID,
		UserField:   "vip;ünïcode",
		PeerAccount: "bob",
		LinkedID:    uniqueID,
		Sequence:    42,
	}
}

func mustInsertCDR(t *testing.T, s cdr.Store, rs ...cdr.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.InsertCDR(context.Background(), r); err != nil {
			t.Fatalf("InsertCDR(%s): %v", r.UniqueID, err)
		}
	}
}

// wantCDRs checks that ListCDR(f) returns exactly want, in order.
func wantCDRs(t *testing.T, s cdr.Store, f cdr.Filter, want ...cdr.Record) {
	t.Helper()
	got, err := s.ListCDR(context.Background(), f)
	if err != nil {
		t.Fatalf("ListCDR(%+v): %v", f, err)
	}
	if len(got) != len(want) {
		t.Errorf("ListCDR(%+v): got %d records, want %d:\n got %v\nwant %v", f, len(got), len(want), cdrIDs(got), cdrIDs(want))
		return
	}
	for i := range got {
		if d := cdrDiff(got[i], want[i]); d != "" {
			t.Errorf("ListCDR(%+v)[%d]: %s", f, i, d)
		}
	}
}

func cdrIDs(rs []cdr.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.UniqueID
	}
	return out
}

// cdrDiff describes how got differs from want, comparing times with Equal.
func cdrDiff(got, want cdr.Record) string {
	var d string
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"Start", got.Start, want.Start}, {"Answer", got.Answer, want.Answer}, {"End", got.End, want.End}} {
		if !tm.got.Equal(tm.want) {
			d += fmt.Sprintf("%s %v, want %v; ", tm.name, tm.got, tm.want)
		}
	}
	got.Start, got.Answer, got.End = time.Time{}, time.Time{}, time.Time{}
	want.Start, want.Answer, want.End = time.Time{}, time.Time{}, time.Time{}
	if got != want {
		d += fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return d
}

func testCDRInsertList(t *testing.T, s cdr.Store) {
	wantCDRs(t, s, cdr.Filter{})
	t0 := time.Now()
	a := cdrRecord("1.1", t0)
	b := cdr.Record{ // unanswered, mostly empty
		Channel:     "PJSIP/trunk-00000003",
		Start:       t0.Add(time.Second),
		End:         t0.Add(4 * time.Second),
		Duration:    3,
		Disposition: cdr.Busy,
		AMAFlags:    "BILLING",
		UniqueID:    "1.2",
	}
	mustInsertCDR(t, s, a, b)
	wantCDRs(t, s, cdr.Filter{}, a, b)
}

func testCDROrder(t *testing.T, s cdr.Store) {
	t0 := time.Now()
	late := cdrRecord("late", t0.Add(time.Minute))
	first := cdrRecord("first", t0)
	second := cdrRecord("second", t0) // same start: insertion order
	mustInsertCDR(t, s, late, first, second)
	wantCDRs(t, s, cdr.Filter{}, first, second, late)
}

func testCDRFilter(t *testing.T, s cdr.Store) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	a := cdrRecord("a", t0)
	b := cdrRecord("b", t0.Add(time.Hour))
	b.AccountCode, b.Src, b.Dst = "other", "2001", "2002"
	c := cdrRecord("c", t0.Add(2*time.Hour))
	mustInsertCDR(t, s, a, b, c)
	for _, tt := range []struct {
		f    cdr.Filter
		want []cdr.Record
	}{
		{cdr.Filter{From: t0.Add(time.Hour)}, []cdr.Record{b, c}},
		{cdr.Filter{To: t0.Add(time.Hour)}, []cdr.Record{a}},
		{cdr.Filter{From: t0.Add(time.Minute), To: t0.Add(2 * time.Hour)}, []cdr.Record{b}},
		{cdr.Filter{AccountCode: "acme"}, []cdr.Record{a, c}},
		{cdr.Filter{Src: "2001"}, []cdr.Record{b}},
		{cdr.Filter{Dst: "1002", From: t0.Add(time.Second)}, []cdr.Record{c}},
		{cdr.Filter{UniqueID: "c"}, []cdr.Record{c}},
		{cdr.Filter{UniqueID: "nope"}, nil},
		{cdr.Filter{Limit: 2}, []cdr.Record{a, b}},
		{cdr.Filter{AccountCode: "acme", Limit: 1}, []cdr.Record{a}},
	} {
		wantCDRs(t, s, tt.f, tt.want...)
	}
}

func testCDRBatch(t *testing.T, s cdr.Store) {
	bs, ok := s.(cdr.BatchStore)
	if !ok {
		t.Skip("not a cdr.BatchStore")
	}
	t0 := time.Now()
	recs := []cdr.Record{cdrRecord("1", t0), cdrRecord("2", t0.Add(time.Second)), cdrRecord("3", t0.Add(2*time.Second))}
	if err := bs.InsertCDRs(context.Background(), recs); err != nil {
		t.Fatalf("InsertCDRs: %v", err)
	}
	if err := bs.InsertCDRs(context.Background(), nil); err != nil {
		t.Fatalf("InsertCDRs(nil): %v", err)
	}
	wantCDRs(t, s, cdr.Filter{}, recs...)
}

// testCDRConcurrent inserts from many goroutines at once, as hangups do.
func testCDRConcurrent(t *testing.T, s cdr.Store) {
	const workers, each = 16, 25
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r := cdrRecord(fmt.Sprintf("%d.%d", w, i), t0.Add(time.Duration(w*each+i)*time.Millisecond))
				if err := s.InsertCDR(context.Background(), r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("InsertCDR: %v", err)
	}
	got, err := s.ListCDR(context.Background(), cdr.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != workers*each {
		t.Fatalf("got %d records, want %d", len(got), workers*each)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Start.Before(got[i-1].Start) {
			t.Fatalf("records out of order at %d: %v before %v", i, got[i-1].Start, got[i].Start)
		}
	}
}

func testCDRCanceledContext(t *testing.T, s cdr.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.InsertCDR(ctx, cdrRecord("x", time.Now())); err == nil {
		t.Error("InsertCDR with a canceled context: no error")
	}
	if _, err := s.ListCDR(ctx, cdr.Filter{}); err == nil {
		t.Error("ListCDR with a canceled context: no error")
	}
	wantCDRs(t, s, cdr.Filter{})
}
