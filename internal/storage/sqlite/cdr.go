package sqlite

import (
	"context"
	"fmt"
	"math/bits"
	"strings"

	"github.com/gopbx/gopbx/internal/cdr"
)

// CDRs is the call detail record store, the cdr table: Asterisk's CDR
// columns plus an id, with times as Unix nanoseconds. Inserts go through
// the database's group-committing writer, so records logged by many calls
// at once share a transaction, and a batch takes a few multi-row INSERTs
// (cdrChunks); reads query the table directly.
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

// cdrInsertSQL is the INSERT without its VALUES rows.
const cdrInsertSQL = `INSERT INTO cdr (accountcode, src, dst, dcontext, clid, channel, dstchannel,
	lastapp, lastdata, start, answer, "end", duration, billsec, disposition, amaflags, uniqueid,
	userfield, peeraccount, linkedid, sequence)
VALUES `

// cdrColumns is the number of values a row binds.
const cdrColumns = 21

// cdrChunks is how many multi-row INSERTs the writer prepares: the k-th
// inserts 1<<k rows, so the largest takes 1<<(cdrChunks-1) = 64 rows, 1,344
// variables, far below SQLite's limit of 32,766. One row per statement
// cost a statement execution per record (database/sql's Exec, SQLite's
// step, reset and halt); a batch is now inserted in chunks of powers of
// two (37 rows: 32, 4 and 1), and seven statements serve every size.
const cdrChunks = 7

// cdrInsertQuery is the INSERT of rows rows.
func cdrInsertQuery(rows int) string {
	var b strings.Builder
	b.WriteString(cdrInsertSQL)
	row := "(?" + strings.Repeat(", ?", cdrColumns-1) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(row)
	}
	return b.String()
}

// cdrInsert inserts records with the writer's prepared statements, inside
// the writer's transaction.
type cdrInsert struct {
	recs []cdr.Record
}

func (o cdrInsert) run(ctx context.Context, s *stmts) error {
	recs := o.recs
	for len(recs) > 0 {
		k := min(bits.Len(uint(len(recs)))-1, cdrChunks-1)
		chunk := recs[:1<<k]
		recs = recs[len(chunk):]
		args := s.args[:0]
		for i := range chunk {
			r := &chunk[i]
			args = append(args, r.AccountCode, r.Src, r.Dst, r.DContext, r.CLID, r.Channel,
				r.DstChannel, r.LastApp, r.LastData, unixNano(r.Start), unixNano(r.Answer), unixNano(r.End),
				r.Duration, r.BillSec, r.Disposition.String(), r.AMAFlags, r.UniqueID, r.UserField,
				r.PeerAccount, r.LinkedID, r.Sequence)
		}
		_, err := s.cdrInsert[k].ExecContext(ctx, args...)
		clear(args) // keep no record's strings alive
		s.args = args[:0]
		if err != nil {
			if len(chunk) == 1 {
				return fmt.Errorf("sqlite: insert cdr %s: %w", chunk[0].UniqueID, err)
			}
			return fmt.Errorf("sqlite: insert cdr %s and %d more: %w", chunk[0].UniqueID, len(chunk)-1, err)
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
