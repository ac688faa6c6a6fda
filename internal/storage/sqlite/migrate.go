package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one schema step. Versions are consecutive from 1; a released
// migration is never edited, a change is a new migration.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the schema history in order.
func migrations() []migration {
	return []migration{
		{1, "location", `
CREATE TABLE location (
	aor         TEXT    NOT NULL,
	contact     TEXT    NOT NULL,
	received    TEXT    NOT NULL DEFAULT '',
	transport   TEXT    NOT NULL DEFAULT '',
	local_addr  TEXT    NOT NULL DEFAULT '',
	path        TEXT    NOT NULL DEFAULT '',
	call_id     TEXT    NOT NULL DEFAULT '',
	cseq        INTEGER NOT NULL DEFAULT 0,
	expires     INTEGER NOT NULL,            -- Unix nanoseconds
	q           REAL    NOT NULL DEFAULT -1, -- -1: no q parameter
	instance_id TEXT    NOT NULL DEFAULT '',
	reg_id      INTEGER NOT NULL DEFAULT 0,
	user_agent  TEXT    NOT NULL DEFAULT '',
	updated     INTEGER NOT NULL,            -- Unix nanoseconds
	node        TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (aor, contact)
) WITHOUT ROWID;
`},
		{2, "cdr", `
CREATE TABLE cdr (
	id          INTEGER PRIMARY KEY,
	accountcode TEXT    NOT NULL DEFAULT '',
	src         TEXT    NOT NULL DEFAULT '',
	dst         TEXT    NOT NULL DEFAULT '',
	dcontext    TEXT    NOT NULL DEFAULT '',
	clid        TEXT    NOT NULL DEFAULT '',
	channel     TEXT    NOT NULL DEFAULT '',
	dstchannel  TEXT    NOT NULL DEFAULT '',
	lastapp     TEXT    NOT NULL DEFAULT '',
	lastdata    TEXT    NOT NULL DEFAULT '',
	start       INTEGER NOT NULL,           -- Unix nanoseconds
	answer      INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds; 0: not answered
	"end"       INTEGER NOT NULL,           -- Unix nanoseconds
	duration    INTEGER NOT NULL DEFAULT 0, -- seconds
	billsec     INTEGER NOT NULL DEFAULT 0, -- seconds
	disposition TEXT    NOT NULL,           -- ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION, CANCEL
	amaflags    TEXT    NOT NULL DEFAULT '',
	uniqueid    TEXT    NOT NULL DEFAULT '',
	userfield   TEXT    NOT NULL DEFAULT '',
	peeraccount TEXT    NOT NULL DEFAULT '',
	linkedid    TEXT    NOT NULL DEFAULT '',
	sequence    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cdr_start ON cdr (start);
CREATE INDEX cdr_uniqueid ON cdr (uniqueid);
`},
	}
}

// migrate brings the schema up to the latest version in one transaction.
// It refuses a database written by a newer gopbx.
func migrate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix seconds
)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := migrateTx(ctx, conn, migrations()); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func migrateTx(ctx context.Context, conn *sql.Conn, ms []migration) error {
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&current); err != nil {
		return err
	}
	if latest := len(ms); current > latest {
		return fmt.Errorf("schema version %d is newer than this program's %d", current, latest)
	}
	for i, m := range ms[current:] {
		if m.version != current+i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.name, m.version, current+i+1)
		}
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("%d %s: %w", m.version, m.name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, time.Now().Unix()); err != nil {
			return fmt.Errorf("%d %s: %w", m.version, m.name, err)
		}
	}
	return nil
}
