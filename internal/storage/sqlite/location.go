package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

// stmts are the writer's prepared statements, bound to its connection.
type stmts struct {
	begin      *sql.Stmt
	commit     *sql.Stmt
	locUpdate  *sql.Stmt
	locRefresh *sql.Stmt
	locUpsert  *sql.Stmt
	locDelete  *sql.Stmt
	cdrInsert  [cdrChunks]*sql.Stmt // cdrInsert[k] inserts 1<<k rows

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
	for _, st := range append([]*sql.Stmt{s.begin, s.commit, s.locUpdate, s.locRefresh, s.locUpsert, s.locDelete}, s.cdrInsert[:]...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// locationBackend makes location.Memory's changes durable through the
// writer.
type locationBackend struct{ w *writer }

func (lb locationBackend) Write(ctx context.Context, changes ...location.Change) error {
	return lb.w.do(ctx, changesOp(changes))
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

var _ location.Backend = locationBackend{}
