package sipserver

import (
	"sync/atomic"
	"time"
)

// delayMeter measures the fast path's standing queue: how long requests
// wait between the arrival of their datagram and a worker taking them.
// A burst (a GC cycle, a batch of retransmissions) makes some requests wait
// while others pass at once; a queue the CPUs cannot drain makes every
// request wait. So, as CoDel tells the two apart, the meter keeps the
// smallest wait seen in each interval: only when even the luckiest request
// of an interval waited long is the server overloaded.
type delayMeter struct {
	start    atomic.Int64 // unix ns the current interval began
	min      atomic.Int64 // smallest wait in it so far (ns); -1: none yet
	n        atomic.Int64 // requests seen in it
	standing atomic.Int64 // smallest wait of the last two complete intervals
	prev     atomic.Int64 // smallest wait of the last complete interval
	last     atomic.Int64 // unix ns of the last complete interval's end
}

// delayInterval is the meter's interval: long enough to hold many
// requests at any load worth measuring, short enough that the server
// reacts well before callers retransmit (T1 = 500 ms).
const delayInterval = 100 * time.Millisecond

// delayMinRequests is how many requests an interval needs for its minimum
// to mean anything. With a handful, the minimum is one request's luck: a
// lightly loaded server on a machine busy with something else (a test
// suite, a backup) would refuse calls that refusing cannot help. 16 per
// 100 ms is a few dozen calls a second.
const delayMinRequests = 16

func newDelayMeter() *delayMeter {
	m := &delayMeter{}
	m.min.Store(-1)
	return m
}

// observe records a request that arrived at and was taken at now (unix ns).
func (m *delayMeter) observe(at, now int64) {
	wait := max(now-at, 0)
	start := m.start.Load()
	if now-start >= int64(delayInterval) && m.start.CompareAndSwap(start, now) {
		prev := m.min.Swap(wait)
		n := m.n.Swap(1)
		if start != 0 && prev >= 0 {
			if n < delayMinRequests {
				prev = 0
			}
			before := m.prev.Swap(prev)
			if now-m.last.Load() > int64(3*delayInterval) {
				before = 0 // not the interval just before: idle in between
			}
			m.standing.Store(min(prev, before))
			m.last.Store(now)
		}
		return
	}
	m.n.Add(1)
	for {
		cur := m.min.Load()
		if cur >= 0 && cur <= wait {
			return
		}
		if m.min.CompareAndSwap(cur, wait) {
			return
		}
	}
}

// Standing is the smallest wait of the last two complete intervals, or 0
// when the last one is stale (no requests lately: nothing is queued). Two:
// a backlog that a GC cycle or a checkpoint leaves on a busy machine lasts
// about 100 ms and clears by itself; one the CPUs cannot drain lasts.
func (m *delayMeter) Standing(now int64) time.Duration {
	if now-m.last.Load() > int64(2*delayInterval) {
		return 0
	}
	return time.Duration(m.standing.Load())
}
