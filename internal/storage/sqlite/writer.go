package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// An op is one caller's change, run by the writer inside a transaction.
type op interface {
	run(ctx context.Context, s *stmts) error
}

// batch is a group of ops committed together. errs is written by the
// writer before done is closed and read by each waiter afterwards.
type batch struct {
	ops  []op
	errs []error
	done chan struct{}
}

// writer owns the write connection and commits queued ops in groups.
type writer struct {
	conn     *sql.Conn
	ckpt     *checkpointer
	stmts    stmts
	maxBatch int

	mu     sync.Mutex
	queue  []*batch // waiting batches, oldest first; only the last one grows
	closed bool

	kick   chan struct{} // capacity 1: "the queue is not empty"
	exited chan struct{} // closed when run returns

	commits, writes, failed atomic.Uint64
}

func newWriter(ctx context.Context, conn *sql.Conn, maxBatch int, ckpt *checkpointer) (*writer, error) {
	w := &writer{
		conn:     conn,
		ckpt:     ckpt,
		maxBatch: maxBatch,
		kick:     make(chan struct{}, 1),
		exited:   make(chan struct{}),
	}
	if err := w.stmts.prepare(ctx, conn); err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

// do queues o and waits until the writer has committed or failed it. ctx
// only guards the queueing: once queued, o is waited for so that the caller
// learns its real outcome.
func (w *writer) do(ctx context.Context, o op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	var b *batch
	if n := len(w.queue); n > 0 && len(w.queue[n-1].ops) < w.maxBatch {
		b = w.queue[n-1]
	} else {
		b = &batch{done: make(chan struct{})}
		w.queue = append(w.queue, b)
	}
	i := len(b.ops)
	b.ops = append(b.ops, o)
	w.mu.Unlock()

	select {
	case w.kick <- struct{}{}:
	default:
	}
	<-b.done
	return b.errs[i]
}

func (w *writer) run() {
	defer close(w.exited)
	for range w.kick {
		// The goroutine that kicked us made us its successor, so we would
		// run before the other callers it woke can queue their changes.
		// Yielding once lets them join this batch.
		runtime.Gosched()
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				closed := w.closed
				w.mu.Unlock()
				if closed {
					return
				}
				break
			}
			b := w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
			w.mu.Unlock()

			w.commit(b)
			close(b.done)
		}
	}
}

// commit runs b as one transaction. If that fails it runs each op in its
// own transaction, so one bad op does not fail the others.
func (w *writer) commit(b *batch) {
	ctx := context.Background()
	b.errs = make([]error, len(b.ops))
	w.writes.Add(uint64(len(b.ops)))
	err := w.tx(ctx, b.ops)
	if err != nil && len(b.ops) > 1 {
		for i := range b.ops {
			b.errs[i] = w.tx(ctx, b.ops[i:i+1])
		}
		return
	}
	b.errs[0] = err
}

func (w *writer) tx(ctx context.Context, ops []op) error {
	if _, err := w.stmts.begin.ExecContext(ctx); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	for _, o := range ops {
		if err := o.run(ctx, &w.stmts); err != nil {
			w.rollback(ctx)
			w.failed.Add(1)
			return err
		}
	}
	if _, err := w.stmts.commit.ExecContext(ctx); err != nil {
		w.rollback(ctx)
		w.failed.Add(1)
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if w.commits.Add(1)%checkpointCommits == 0 {
		w.ckpt.request()
	}
	return nil
}

// rollback ends a failed transaction. Its error is dropped: the caller
// reports the error that caused the rollback, and SQLite may already have
// rolled back on its own (then ROLLBACK fails harmlessly).
func (w *writer) rollback(ctx context.Context) {
	_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
}

// close stops accepting ops, waits for the queued ones to commit, and
// closes the write connection.
func (w *writer) close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	<-w.exited
	return errors.Join(w.stmts.close(), w.conn.Close())
}
