package sipserver

import (
	"testing"
	"time"
)

// TestDelayMeter: the standing delay is the smallest wait of the last two
// complete intervals, so a burst that made some requests wait does not
// count while one request passed at once, nor does one interval's
// backlog; a backlog every request of two intervals waited in does, and an
// interval with no requests since, or too few to tell, reads as no backlog.
func TestDelayMeter(t *testing.T) {
	const ms = int64(time.Millisecond)
	base := int64(1_000_000) * ms
	// fill records n requests from t0 on, 1 ms apart, each with wait (the
	// first one ends the interval before when it is due).
	fill := func(m *delayMeter, t0 int64, n int, wait int64) {
		for i := range n {
			now := t0 + int64(i)*ms
			m.observe(now-wait, now)
		}
	}
	m := newDelayMeter()

	// Interval 1: a burst (300 ms waits) around one request that waited 1 ms.
	fill(m, base, 10, 300*ms)
	m.observe(base+20*ms, base+21*ms)
	fill(m, base+30*ms, 10, 250*ms)
	if got := m.Standing(base + 60*ms); got != 0 {
		t.Fatalf("before any interval completed: %v, want 0", got)
	}
	// Interval 2: every request waited at least 80 ms.
	fill(m, base+100*ms, 10, 120*ms)
	fill(m, base+150*ms, 10, 80*ms)
	if got := m.Standing(base + 160*ms); got != 0 {
		t.Fatalf("after a burst: %v, want 0", got)
	}
	// Interval 3: at least 90 ms. Interval 2 alone was not enough.
	fill(m, base+200*ms, 20, 90*ms)
	if got := m.Standing(base + 250*ms); got != time.Millisecond {
		t.Fatalf("after one interval's backlog: %v, want interval 1's 1ms", got)
	}
	fill(m, base+300*ms, 1, 2*ms) // ends interval 3
	if got := m.Standing(base + 300*ms); got != 80*time.Millisecond {
		t.Fatalf("after two intervals' backlog: %v, want 80ms", got)
	}
	// Interval 4 (2 ms and then nothing): the backlog is gone at once.
	fill(m, base+400*ms, 1, 0) // ends interval 4 with its one request
	if got := m.Standing(base + 400*ms); got != 0 {
		t.Fatalf("after an interval without backlog: %v, want 0", got)
	}
	// Nothing for a while: no backlog can stand without requests.
	if got := m.Standing(base + 700*ms); got != 0 {
		t.Fatalf("idle: %v, want 0", got)
	}

	// A few requests that each waited long: one request's luck, not a
	// standing queue.
	few := newDelayMeter()
	fill(few, base, 1, 0)
	fill(few, base+100*ms, delayMinRequests-1, 200*ms) // interval A: too few
	fill(few, base+200*ms, delayMinRequests, 200*ms)   // B
	fill(few, base+300*ms, delayMinRequests, 200*ms)   // C, and B ends
	if got := few.Standing(base + 320*ms); got != 0 {
		t.Fatalf("%d requests in an interval: %v, want 0", delayMinRequests-1, got)
	}
	fill(few, base+400*ms, 1, 0) // C ends
	if got := few.Standing(base + 400*ms); got != 200*time.Millisecond {
		t.Fatalf("%d requests in two intervals: %v, want 200ms", delayMinRequests, got)
	}
	// After a pause, the first interval does not pair with the one before it.
	fill(few, base+2000*ms, delayMinRequests, 300*ms)
	fill(few, base+2100*ms, 1, 0)
	if got := few.Standing(base + 2100*ms); got != 0 {
		t.Fatalf("one interval after a pause: %v, want 0", got)
	}

	// A request taken before it arrived (clocks) counts as no wait.
	neg := newDelayMeter()
	fill(neg, base, delayMinRequests, -5*ms)
	fill(neg, base+100*ms, 1, 0)
	if got := neg.Standing(base + 100*ms); got != 0 {
		t.Fatalf("negative wait: %v, want 0", got)
	}
}
