package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/location"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("sqlite: database closed")

// DB is an open gopbx database. It is safe for concurrent use.
type DB struct {
	sql       *sql.DB
	w         *writer
	ckpt      *checkpointer
	locations *location.Memory
	loc       *locationBackend

	closeOnce sync.Once
	closeErr  error
}

type options struct {
	busyTimeout  time.Duration
	synchronous  string
	maxBatch     int
	everyRefresh bool
	refreshFlush time.Duration
	log          *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithBusyTimeout sets how long a statement waits for a lock another
// connection holds before failing with SQLITE_BUSY (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithSynchronous sets PRAGMA synchronous: "NORMAL" (the default; commits
// survive a process crash) or "FULL" (they also survive a power loss, at the
// price of an fsync per batch).
func WithSynchronous(mode string) Option {
	return func(o *options) { o.synchronous = mode }
}

// WithEveryRefresh writes every refresh of a binding, not only those the
// stored row needs (see locationBackend): what Kamailio's usrloc db_mode 1
// does. Benchmarks of the write path use it.
func WithEveryRefresh() Option {
	return func(o *options) { o.everyRefresh = true }
}

// WithRefreshFlush sets how often the refreshes that were not written at
// once (see locationBackend) are written (default a minute).
func WithRefreshFlush(d time.Duration) Option {
	return func(o *options) { o.refreshFlush = d }
}

// WithMaxBatch sets how many queued writes (one per waiting caller) the
// writer commits in one transaction at most (default 1024).
func WithMaxBatch(n int) Option {
	return func(o *options) { o.maxBatch = n }
}

// WithLogger sets where background failures (WAL checkpoints) are logged
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// checkpointInterval is how often the WAL is checkpointed at least; the
// writer asks for one sooner every checkpointCommits commits.
const (
	checkpointInterval = time.Second
	checkpointCommits  = 256
)

// Open opens the database file at path, creating it if needed, migrates its
// schema and loads the location table into memory. The caller must Close it.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{busyTimeout: 5 * time.Second, synchronous: "NORMAL", maxBatch: 1024, refreshFlush: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	switch strings.ToUpper(o.synchronous) {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: open %s: synchronous %q: want NORMAL, FULL or EXTRA", path, o.synchronous)
	}
	if o.refreshFlush <= 0 {
		return nil, fmt.Errorf("sqlite: open %s: refresh flush interval %v: want more than 0", path, o.refreshFlush)
	}
	if o.maxBatch < 1 {
		return nil, fmt.Errorf("sqlite: open %s: max batch %d: want at least 1", path, o.maxBatch)
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous("+strings.ToUpper(o.synchronous)+")")
	q.Add("_pragma", "foreign_keys(1)")
	// Bound the WAL file: it is truncated to this size after checkpoints.
	q.Add("_pragma", "journal_size_limit(67108864)")
	// The checkpointer goroutine checkpoints instead of the committing
	// writer (see checkpoint.go).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// Keep up to 32 MiB of pages per connection (the default is 2 MiB),
	// so the writer rarely rereads a page of a large location table.
	q.Add("_pragma", "cache_size(-32768)")
	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db, err := open(ctx, sqldb, o)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, sqldb *sql.DB, o options) (*DB, error) {
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := setup(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	bindings, err := loadBindings(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ckpt := newCheckpointer(sqldb, o.log.With("db", "sqlite"), checkpointInterval)
	w, err := newWriter(ctx, conn, o.maxBatch, ckpt)
	if err != nil {
		ckpt.close()
		conn.Close()
		return nil, err
	}
	db := &DB{sql: sqldb, w: w, ckpt: ckpt, loc: newLocationBackend(w, o.everyRefresh, o.refreshFlush, bindings)}
	db.locations = location.NewMemory(
		location.WithBindings(bindings),
		location.WithBackend(db.loc),
	)
	return db, nil
}

// pageSize is the page size of new databases. Smaller pages than SQLite's
// 4096 mean less to write per refreshed binding: a REGISTER refresh rewrites
// one ~200-byte row, but the WAL and the checkpoint copy whole pages, so
// 1 KiB pages cut the disk traffic of a refresh-heavy registrar by about
// 2.5x (measured with BenchmarkPutRefresh's write-B/op).
const pageSize = 1024

// setup gives a new database its page size, then switches it to WAL. The
// order matters: entering WAL writes the file header and fixes the page
// size. Both settings persist in the file.
func setup(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return fmt.Errorf("page size: %w", err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return nil
}

// Locations returns the location store: reads are served from memory,
// writes return once committed to the database. After Close its writes fail
// with ErrClosed.
func (db *DB) Locations() *location.Memory { return db.locations }

// Stats counts the writer's work since Open.
type Stats struct {
	Writes  uint64 // changes committed or failed
	Commits uint64 // transactions committed; Writes/Commits is the mean batch size
	Failed  uint64 // transactions rolled back
	// RefreshesSkipped counts binding refreshes not written because the
	// stored row did not need them (see locationBackend).
	RefreshesSkipped uint64

	Checkpoints      uint64 // WAL checkpoints run
	CheckpointFailed uint64 // of which failed (and were logged)
}

// Stats returns the writer's counters.
func (db *DB) Stats() Stats {
	return Stats{
		Writes:  db.w.writes.Load(),
		Commits: db.w.commits.Load(),
		Failed:  db.w.failed.Load(),

		RefreshesSkipped: db.loc.skipped.Load(),

		Checkpoints:      db.ckpt.runs.Load(),
		CheckpointFailed: db.ckpt.failed.Load(),
	}
}

// Close waits for queued writes to commit, then closes the database. Calls
// after the first return the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		ferr := db.loc.close(context.Background())
		werr := errors.Join(ferr, db.w.close())
		db.ckpt.close()
		db.closeErr = errors.Join(werr, db.sql.Close())
		if db.closeErr != nil {
			db.closeErr = fmt.Errorf("sqlite: close: %w", db.closeErr)
		}
	})
	return db.closeErr
}
