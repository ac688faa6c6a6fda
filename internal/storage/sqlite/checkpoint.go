package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// checkpointer copies the WAL back into the database file in the
// background. SQLite's automatic checkpoint would run inside the writer's
// COMMIT, and with it the checkpoint's fsyncs, stalling every queued
// REGISTER behind the disk; here the writer only appends to the WAL and this
// goroutine, on its own connection, pays for the fsyncs. It runs a PASSIVE
// checkpoint, which never blocks the writer, every interval and whenever the
// writer reports enough commits since the last one.
type checkpointer struct {
	db       *sql.DB
	log      *slog.Logger
	interval time.Duration

	kick chan struct{} // capacity 1
	stop chan struct{}
	done chan struct{}

	runs, failed atomic.Uint64
}

func newCheckpointer(db *sql.DB, log *slog.Logger, interval time.Duration) *checkpointer {
	c := &checkpointer{
		db:       db,
		log:      log,
		interval: interval,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go c.run()
	return c
}

// request asks for a checkpoint soon, without waiting.
func (c *checkpointer) request() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.kick:
		}
		c.checkpoint()
	}
}

func (c *checkpointer) checkpoint() {
	var busy, frames, copied int
	err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	c.runs.Add(1)
	if err != nil {
		c.failed.Add(1)
		c.log.Error("wal checkpoint failed", "err", err)
	}
}

// close stops the goroutine, waiting for a running checkpoint to finish.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
