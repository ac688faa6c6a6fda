package gopool

import (
	"sync/atomic"
	"time"
)

// DefaultIdle is how long a worker waits for a task before it exits.
const DefaultIdle = 5 * time.Second

// Pool runs tasks on reused goroutines. The zero value is not usable: call
// New.
type Pool struct {
	idle  time.Duration
	tasks chan func()

	workers atomic.Int64 // running workers, idle or busy
}

// New returns a pool whose idle workers exit after idle (DefaultIdle if
// idle <= 0).
func New(idle time.Duration) *Pool {
	if idle <= 0 {
		idle = DefaultIdle
	}
	// Unbuffered: a send succeeds only when a worker is waiting for it,
	// so a task is never queued behind a busy worker.
	return &Pool{idle: idle, tasks: make(chan func())}
}

// Go runs f on an idle worker, or on a new one when none is idle.
func (p *Pool) Go(f func()) {
	select {
	case p.tasks <- f:
	default:
		p.workers.Add(1)
		go p.work(f)
	}
}

// Workers reports the running workers (for tests and the console).
func (p *Pool) Workers() int { return int(p.workers.Load()) }

func (p *Pool) work(f func()) {
	defer p.workers.Add(-1)
	t := time.NewTimer(p.idle)
	defer t.Stop()
	for {
		f()
		f = nil // let the task's closure be collected while idle
		t.Reset(p.idle)
		select {
		case f = <-p.tasks:
		case <-t.C:
			return
		}
	}
}
