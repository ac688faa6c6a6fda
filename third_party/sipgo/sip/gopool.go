package sip

import (
	"sync/atomic"
	"time"
)

// gopbx patch: the transaction layer handed every incoming message to a
// new goroutine. Those run deep (transaction FSM, dialog, the user's
// handler) and grew their stacks from the runtime's small start each time:
// stack copying was ~2% of gopbx's CPU at 1,500 B2BUA calls/s from the
// response goroutines alone. taskPool keeps one goroutine per message (a
// message never waits for another, as before) but reuses idle ones, whose
// stacks are already grown.
type taskPool struct {
	tasks   chan func()
	workers atomic.Int64
}

const taskPoolIdle = 5 * time.Second

func newTaskPool() *taskPool { return &taskPool{tasks: make(chan func())} }

func (p *taskPool) Go(f func()) {
	select {
	case p.tasks <- f:
	default:
		p.workers.Add(1)
		go p.work(f)
	}
}

func (p *taskPool) work(f func()) {
	defer p.workers.Add(-1)
	t := time.NewTimer(taskPoolIdle)
	defer t.Stop()
	for {
		f()
		f = nil
		t.Reset(taskPoolIdle)
		select {
		case f = <-p.tasks:
		case <-t.C:
			return
		}
	}
}
