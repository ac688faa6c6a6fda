package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/cdr"
)

// CDRs is the call detail record store, the cdr table: Asterisk's CDR
// columns plus an id, with times as Unix nanoseconds. Inserts go through
// the database's group-committing writer, so records logged by many calls
// at once share a transaction; reads query the table directly.
type CDRs struct{ db *DB }

// CDRs returns the call detail record store. After Close its inserts fail
// with ErrClosed.
func (db *DB) CDRs() *CDRs { return &CDRs{db: db} }

// InsertCDR stores r; it returns once r is committed.
func (s *CDRs) InsertCDR(ctx context.Context, r cdr.Record) error {
	return s.InsertCDRs(ctx, []cdr.Record{r})
}

// InsertCDRs stores recs in one transaction: all of them or none.
func (s *CDRs) InsertCDRs(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.db.w.do(ctx, cdrInsert{recs: recs})
}

const cdrInsertSQL = `INSERT INTO cdr (accountcode, src, dst, dcontext, clid, channel, dstchannel,
	lastapp, lastdata, start, answer, "end", duration, billsec, disposition, amaflags, uniqueid,
	userfield, peeraccount, linkedid, sequence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// cdrInsert inserts records with the writer's prepared statement, inside
// the writer's transaction.
type cdrInsert struct {
	recs []cdr.Record
}

func (o cdrInsert) run(ctx context.Context, s *stmts) error {
	st := s.cdrInsert
	for i := range o.recs {
		r := &o.recs[i]
		if _, err := st.ExecContext(ctx, r.AccountCode, r.Src, r.Dst, r.DContext, r.CLID, r.Channel,
			r.DstChannel, r.LastApp, r.LastData, unixNano(r.Start), unixNano(r.Answer), unixNano(r.End),
			r.Duration, r.BillSec, r.Disposition.String(), r.AMAFlags, r.UniqueID, r.UserField,
			r.PeerAccount, r.LinkedID, r.Sequence); err != nil {
			return fmt.Errorf("sqlite: insert cdr %s: %w", r.UniqueID, err)
		}
	}
	return nil
}

// ListCDR returns the records f selects, oldest start first, then in
// insertion order.
func (s *CDRs) ListCDR(ctx context.Context, f cdr.Filter) ([]cdr.Record, error) {
	var where []string
	var args []any
	cond := func(c string, v any) {
		where = append(where, c)
		args = append(args, v)
	}
	if !f.From.IsZero() {
		cond("start >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		cond("start < ?", f.To.UnixNano())
	}
	for _, c := range []struct{ col, v string }{
		{"accountcode", f.AccountCode}, {"src", f.Src}, {"dst", f.Dst}, {"uniqueid", f.UniqueID},
	} {
		if c.v != "" {
			cond(c.col+" = ?", c.v)
		}
	}
	q := `SELECT accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
	start, answer, "end", duration, billsec, disposition, amaflags, uniqueid, userfield,
	peeraccount, linkedid, sequence FROM cdr`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY start, id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list cdr: %w", err)
	}
	defer rows.Close()
	var out []cdr.Record
	for rows.Next() {
		var (
			r                  cdr.Record
			start, answer, end int64
			disp               string
		)
		if err := rows.Scan(&r.AccountCode, &r.Src, &r.Dst, &r.DContext, &r.CLID, &r.Channel,
			&r.DstChannel, &r.LastApp, &r.LastData, &start, &answer, &end, &r.Duration, &r.BillSec,
			&disp, &r.AMAFlags, &r.UniqueID, &r.UserField, &r.PeerAccount, &r.LinkedID, &r.Sequence); err != nil {
			return nil, fmt.Errorf("sqlite: list cdr: %w", err)
		}
		if r.Disposition, err = cdr.ParseDisposition(disp); err != nil {
			return nil, fmt.Errorf("sqlite: list cdr %s: %w", r.UniqueID, err)
		}
		r.Start, r.Answer, r.End = fromUnixNano(start), fromUnixNano(answer), fromUnixNano(end)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list cdr: %w", err)
	}
	return out, nil
}

var (
	_ cdr.Store      = (*CDRs)(nil)
	_ cdr.BatchStore = (*CDRs)(nil)
)
