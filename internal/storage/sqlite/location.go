package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

// stmts are the writer's prepared statements, bound to its connection.
type stmts struct {
	begin      *sql.Stmt
	commit     *sql.Stmt
	locUpdate  *sql.Stmt
	locRefresh *sql.Stmt
	// locLateRefresh writes a skipped refresh (locationBackend.flush).
	locLateRefresh *sql.Stmt
	locUpsert      *sql.Stmt
	locDelete      *sql.Stmt
	cdrInsert      [cdrChunks]*sql.Stmt // cdrInsert[k] inserts 1<<k rows

	args []any // reused for the values of a statement
}

func (s *stmts) prepare(ctx context.Context, conn *sql.Conn) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		// Transaction control is prepared too: parsing BEGIN and COMMIT
		// per transaction showed in the profile of small batches.
		{&s.begin, "BEGIN IMMEDIATE"},
		{&s.commit, "COMMIT"},
		// Most writes are refreshes of an existing row: an UPDATE finds it
		// with one primary-key search, where an upsert first tries to insert.
		{&s.locUpdate, `UPDATE location SET received = ?, transport = ?, local_addr = ?, path = ?,
	call_id = ?, cseq = ?, expires = ?, q = ?, instance_id = ?, reg_id = ?, user_agent = ?,
	updated = ?, node = ?
WHERE aor = ? AND contact = ?`},
		// A refresh (location.Change.Refresh) binds 6 values instead of 15.
		{&s.locRefresh, `UPDATE location SET call_id = ?, cseq = ?, expires = ?, updated = ? WHERE aor = ? AND contact = ?`},
		{&s.locLateRefresh, `UPDATE location SET call_id = ?, cseq = ?, expires = ?, updated = ? WHERE aor = ? AND contact = ? AND updated <= ?`},
		{&s.locUpsert, `INSERT INTO location (aor, contact, received, transport, local_addr, path,
	call_id, cseq, expires, q, instance_id, reg_id, user_agent, updated, node)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (aor, contact) DO UPDATE SET
	received = excluded.received, transport = excluded.transport,
	local_addr = excluded.local_addr, path = excluded.path,
	call_id = excluded.call_id, cseq = excluded.cseq, expires = excluded.expires,
	q = excluded.q, instance_id = excluded.instance_id, reg_id = excluded.reg_id,
	user_agent = excluded.user_agent, updated = excluded.updated, node = excluded.node`},
		{&s.locDelete, `DELETE FROM location WHERE aor = ? AND contact = ?`},
	} {
		st, err := conn.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
	}
	// Prepared once: preparing the insert per batch cost as much as the
	// insert itself under call load (profile of bench b2bua-calls).
	for k := range s.cdrInsert {
		st, err := conn.PrepareContext(ctx, cdrInsertQuery(1<<k))
		if err != nil {
			return fmt.Errorf("prepare: cdr insert of %d rows: %w", 1<<k, err)
		}
		s.cdrInsert[k] = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range append([]*sql.Stmt{s.begin, s.commit, s.locUpdate, s.locRefresh, s.locLateRefresh, s.locUpsert, s.locDelete}, s.cdrInsert[:]...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// locationBackend makes location.Memory's changes durable through the
// writer.
//
// A refresh (location.Change.Refresh: a phone's re-REGISTER changing only
// Call-ID, CSeq, Expires and Updated) is not written before Write returns
// while the stored row still has at least half of the refreshed binding's
// period E (the new Expires minus now) to run; the latest such refresh is
// written by a background flush within refreshFlush (a minute: Kamailio's
// usrloc timer_interval), and at Close.
//
// A crash before that flush loses nothing for a phone that refreshes
// regularly: a refresh is skipped only when the phone refreshed within E/2
// of the last write (the stored row, written with a whole period, still
// has E/2 left), so the stored row outlives its next refresh. A phone whose
// next refresh comes later than E/2 after a skipped one (an extra REGISTER
// after a network change, then its usual refresh late in the period) can,
// after a crash within the flush interval, be unreachable from the stored
// expiry until that refresh. Every Put and Delete is written before Write
// returns. A phone re-registering every 30 s with Expires 3600 has its row
// written once a minute instead of twice; the benchmark's users, each
// re-registering many times a second, almost never.
type locationBackend struct {
	w     *writer
	every bool // write every refresh (WithEveryRefresh)
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	rows    map[bindingKey]*storedRow // what the location table holds
	queued  []*storedRow              // rows given a pending refresh since the last flush
	skipped atomic.Uint64
}

type bindingKey struct{ aor, contact string }

// storedRow is one row of the location table as locationBackend knows it.
type storedRow struct {
	expires int64             // unix ns, as stored
	pending *location.Binding // the latest refresh not written yet (flush)
}

func newLocationBackend(w *writer, every bool, flushEvery time.Duration, loaded []location.Binding) *locationBackend {
	lb := &locationBackend{w: w, every: every, rows: make(map[bindingKey]*storedRow, len(loaded)),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, b := range loaded {
		lb.rows[bindingKey{b.AOR, b.Contact}] = &storedRow{expires: unixNano(b.Expires)}
	}
	go lb.flushLoop(flushEvery)
	return lb
}

// flushLoop writes the skipped refreshes every interval until close.
func (lb *locationBackend) flushLoop(every time.Duration) {
	defer close(lb.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-lb.stop:
			return
		case <-t.C:
			_ = lb.flush(context.Background()) // kept for the next round on failure
		}
	}
}

// close stops the flush loop and writes what is left.
func (lb *locationBackend) close(ctx context.Context) error {
	close(lb.stop)
	<-lb.done
	return lb.flush(ctx)
}

func (lb *locationBackend) Write(ctx context.Context, changes ...location.Change) error {
	now := time.Now().UnixNano()
	type skip struct {
		r    *storedRow
		prev *location.Binding
	}
	var skipped []skip
	write, cloned := changes, false
	lb.mu.Lock()
	for i := range changes {
		c := &changes[i]
		for _, contact := range c.Delete {
			if r := lb.rows[bindingKey{c.AOR, contact}]; r != nil {
				r.pending = nil
			}
		}
		for j := range c.Put {
			if r := lb.rows[bindingKey{c.AOR, c.Put[j].Contact}]; r != nil {
				r.pending = nil
			}
		}
		var keep []location.Binding
		filtered := false
		for j := range c.Refresh {
			b := &c.Refresh[j]
			r := lb.rows[bindingKey{b.AOR, b.Contact}]
			if r != nil && !lb.every && r.expires-now >= (unixNano(b.Expires)-now)/2 {
				if r.pending == nil {
					lb.queued = append(lb.queued, r)
				}
				skipped = append(skipped, skip{r, r.pending})
				r.pending = b
				if !filtered {
					filtered, keep = true, c.Refresh[:j:j] // appending copies: c is not changed
				}
				continue
			}
			if r != nil {
				r.pending = nil
			}
			if filtered {
				keep = append(keep, *b)
			}
		}
		if filtered {
			if !cloned {
				write, cloned = slices.Clone(changes), true
			}
			write[i].Refresh = keep
		}
	}
	lb.mu.Unlock()
	if len(skipped) > 0 {
		lb.skipped.Add(uint64(len(skipped)))
	}
	if empty(write) {
		return nil
	}
	if err := lb.w.do(ctx, changesOp(write)); err != nil {
		lb.mu.Lock()
		for i := len(skipped) - 1; i >= 0; i-- {
			skipped[i].r.pending = skipped[i].prev // not taken: memory does not publish them
		}
		lb.mu.Unlock()
		return err
	}
	lb.mu.Lock()
	for i := range write {
		c := &write[i]
		for _, contact := range c.Delete {
			delete(lb.rows, bindingKey{c.AOR, contact})
		}
		for _, bs := range [][]location.Binding{c.Refresh, c.Put} {
			for j := range bs {
				k := bindingKey{c.AOR, bs[j].Contact}
				if r := lb.rows[k]; r != nil {
					r.expires = unixNano(bs[j].Expires)
				} else {
					lb.rows[k] = &storedRow{expires: unixNano(bs[j].Expires)}
				}
			}
		}
	}
	lb.mu.Unlock()
	return nil
}

// empty reports whether changes write nothing.
func empty(changes []location.Change) bool {
	for i := range changes {
		if len(changes[i].Delete)+len(changes[i].Put)+len(changes[i].Refresh) > 0 {
			return false
		}
	}
	return true
}

// flush writes the skipped refreshes. A row updated since (by a
// later registration) or deleted is left alone: the refresh only updates a
// row whose Updated is not newer than its own, and never inserts one.
func (lb *locationBackend) flush(ctx context.Context) error {
	var bs []location.Binding
	var rows []*storedRow
	lb.mu.Lock()
	for _, r := range lb.queued {
		if r.pending != nil { // else written or deleted since
			bs = append(bs, *r.pending)
			rows = append(rows, r)
			r.pending = nil
		}
	}
	clear(lb.queued) // no pointers kept to rows deleted since
	lb.queued = lb.queued[:0]
	lb.mu.Unlock()
	if len(bs) == 0 {
		return nil
	}
	err := lb.w.do(ctx, lateRefreshes(bs))
	lb.mu.Lock()
	for i, r := range rows {
		switch {
		case err != nil && r.pending == nil:
			r.pending = &bs[i] // again next time, unless a newer one came
			lb.queued = append(lb.queued, r)
		case err == nil:
			r.expires = max(r.expires, unixNano(bs[i].Expires))
		}
	}
	lb.mu.Unlock()
	return err
}

// lateRefreshes writes skipped refreshes.
type lateRefreshes []location.Binding

func (o lateRefreshes) run(ctx context.Context, s *stmts) error {
	for i := range o {
		b := &o[i]
		if _, err := s.locLateRefresh.ExecContext(ctx, b.CallID, int64(b.CSeq), unixNano(b.Expires), unixNano(b.Updated),
			b.AOR, b.Contact, unixNano(b.Updated)); err != nil {
			return fmt.Errorf("sqlite: refresh location %s %s: %w", b.AOR, b.Contact, err)
		}
	}
	return nil
}

// changesOp applies location changes in order.
type changesOp []location.Change

func (o changesOp) run(ctx context.Context, s *stmts) error {
	for i := range o {
		if err := putLocation(ctx, s, &o[i]); err != nil {
			return err
		}
	}
	return nil
}

func putLocation(ctx context.Context, s *stmts, c *location.Change) error {
	for _, contact := range c.Delete {
		if _, err := s.locDelete.ExecContext(ctx, c.AOR, contact); err != nil {
			return fmt.Errorf("sqlite: delete location %s %s: %w", c.AOR, contact, err)
		}
	}
	for i := range c.Refresh {
		b := &c.Refresh[i]
		res, err := s.locRefresh.ExecContext(ctx, b.CallID, int64(b.CSeq), unixNano(b.Expires), unixNano(b.Updated), b.AOR, b.Contact)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err == nil && n == 0 {
			err = putBinding(ctx, s, b) // not stored after all: write it whole
		}
		if err != nil {
			return fmt.Errorf("sqlite: refresh location %s %s: %w", b.AOR, b.Contact, err)
		}
	}
	for i := range c.Put {
		if err := putBinding(ctx, s, &c.Put[i]); err != nil {
			return err
		}
	}
	return nil
}

// putBinding inserts or replaces b's row.
func putBinding(ctx context.Context, s *stmts, b *location.Binding) error {
	res, err := s.locUpdate.ExecContext(ctx, b.Received, b.Transport, b.LocalAddr, b.Path,
		b.CallID, int64(b.CSeq), unixNano(b.Expires), b.Q, b.InstanceID, int64(b.RegID),
		b.UserAgent, unixNano(b.Updated), b.Node, b.AOR, b.Contact)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		_, err = s.locUpsert.ExecContext(ctx, b.AOR, b.Contact, b.Received, b.Transport,
			b.LocalAddr, b.Path, b.CallID, int64(b.CSeq), unixNano(b.Expires), b.Q,
			b.InstanceID, int64(b.RegID), b.UserAgent, unixNano(b.Updated), b.Node)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put location %s %s: %w", b.AOR, b.Contact, err)
	}
	return nil
}

// loadBindings reads the whole location table, expired rows included.
func loadBindings(ctx context.Context, conn *sql.Conn) ([]location.Binding, error) {
	rows, err := conn.QueryContext(ctx, `SELECT aor, contact, received, transport, local_addr, path,
	call_id, cseq, expires, q, instance_id, reg_id, user_agent, updated, node FROM location`)
	if err != nil {
		return nil, fmt.Errorf("load location: %w", err)
	}
	defer rows.Close()
	var out []location.Binding
	for rows.Next() {
		var (
			b                location.Binding
			cseq, expires    int64
			regID, updatedNS int64
		)
		if err := rows.Scan(&b.AOR, &b.Contact, &b.Received, &b.Transport, &b.LocalAddr, &b.Path,
			&b.CallID, &cseq, &expires, &b.Q, &b.InstanceID, &regID, &b.UserAgent, &updatedNS, &b.Node); err != nil {
			return nil, fmt.Errorf("load location: %w", err)
		}
		b.CSeq = uint32(cseq)
		b.RegID = int(regID)
		b.Expires = fromUnixNano(expires)
		b.Updated = fromUnixNano(updatedNS)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load location: %w", err)
	}
	return out, nil
}

// unixNano stores t as Unix nanoseconds; the zero Time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

var _ location.Backend = (*locationBackend)(nil)
