package cdr

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Store keeps records for later queries (the web portal, billing
// exports). storage/sqlite implements it; storagetest.TestCDRStore is its
// contract.
type Store interface {
	// InsertCDR stores r. It returns once r is durable or failed.
	InsertCDR(ctx context.Context, r Record) error
	// ListCDR returns the records f matches, oldest Start first and, for
	// equal starts, in insertion order.
	ListCDR(ctx context.Context, f Filter) ([]Record, error)
}

// BatchStore is implemented by stores that can insert several records in
// one transaction; StoreBackend uses it when it is there.
type BatchStore interface {
	// InsertCDRs stores all of recs or none of them.
	InsertCDRs(ctx context.Context, recs []Record) error
}

// Filter selects records. Zero fields match everything.
type Filter struct {
	From, To    time.Time // Start within [From, To)
	AccountCode string
	Src         string
	Dst         string
	UniqueID    string
	Limit       int // at most this many, the oldest; 0 means all
}

// Match reports whether f selects r.
func (f *Filter) Match(r *Record) bool {
	switch {
	case !f.From.IsZero() && r.Start.Before(f.From),
		!f.To.IsZero() && !r.Start.Before(f.To),
		f.AccountCode != "" && r.AccountCode != f.AccountCode,
		f.Src != "" && r.Src != f.Src,
		f.Dst != "" && r.Dst != f.Dst,
		f.UniqueID != "" && r.UniqueID != f.UniqueID:
		return false
	}
	return true
}

// StoreBackend logs records into s, a batch in one InsertCDRs when s is a
// BatchStore.
func StoreBackend(s Store) Backend {
	return BackendFunc(func(ctx context.Context, recs []Record) error {
		if bs, ok := s.(BatchStore); ok {
			return bs.InsertCDRs(ctx, recs)
		}
		for _, r := range recs {
			if err := s.InsertCDR(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Memory is a Store in memory, for tests and for running without a
// database. The zero value is ready to use.
type Memory struct {
	mu   sync.Mutex
	recs []Record
}

// InsertCDR implements Store.
func (m *Memory) InsertCDR(ctx context.Context, r Record) error {
	return m.InsertCDRs(ctx, []Record{r})
}

// InsertCDRs implements BatchStore.
func (m *Memory) InsertCDRs(ctx context.Context, recs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

// ListCDR implements Store.
func (m *Memory) ListCDR(ctx context.Context, f Filter) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var out []Record
	for i := range m.recs {
		if f.Match(&m.recs[i]) {
			out = append(out, m.recs[i])
		}
	}
	m.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Record) int { return a.Start.Compare(b.Start) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

var (
	_ Store      = (*Memory)(nil)
	_ BatchStore = (*Memory)(nil)
)
