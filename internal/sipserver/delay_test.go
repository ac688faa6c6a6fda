package sipserver

import (
	"testing"
	"time"
)

// TestDelayMeter: the standing delay is the smallest wait of the last
// complete interval, so a burst that made some requests wait does not
// count while one request passed at once, a backlog every request waited
// in does, and an interval with no requests since, or too few to tell,
// reads as no backlog.
func TestDelayMeter(t *testing.T) {
	const ms = int64(time.Millisecond)
	base := int64(1_000_000) * ms
	m := newDelayMeter()
	// fill records n requests in the interval starting at t0, 1 ms
	// apart, each with wait (the first one also ends the interval before).
	fill := func(m *delayMeter, t0 int64, n int, wait int64) {
		for i := range n {
			now := t0 + int64(i)*ms
			m.observe(now-wait, now)
		}
	}

	// Interval 1: a burst (300 ms waits) around one request that waited 1 ms.
	fill(m, base, 10, 300*ms)
	m.observe(base+20*ms, base+21*ms)
	fill(m, base+30*ms, 10, 250*ms)
	if got := m.Standing(base + 60*ms); got != 0 {
		t.Fatalf("before any interval completed: %v, want 0", got)
	}
	// Interval 2: every request waited at least 80 ms, a backlog.
	fill(m, base+100*ms, 10, 120*ms)
	fill(m, base+150*ms, 10, 80*ms)
	if got := m.Standing(base + 160*ms); got != time.Millisecond {
		t.Fatalf("after a burst: %v, want the 1 ms of the luckiest request", got)
	}
	fill(m, base+200*ms, 1, 2*ms) // ends interval 2
	if got := m.Standing(base + 200*ms); got != 80*time.Millisecond {
		t.Fatalf("after a backlog: %v, want 80ms", got)
	}
	// Nothing for a while: no backlog can stand without requests.
	if got := m.Standing(base + 500*ms); got != 0 {
		t.Fatalf("idle: %v, want 0", got)
	}

	// A few requests that each waited long: one request's luck, not a
	// standing queue.
	few := newDelayMeter()
	fill(few, base, 1, 0)
	fill(few, base+100*ms, delayMinRequests-1, 200*ms)
	fill(few, base+200*ms, 1, 0)
	if got := few.Standing(base + 200*ms); got != 0 {
		t.Fatalf("%d requests: %v, want 0", delayMinRequests-1, got)
	}
	fill(few, base+300*ms, delayMinRequests, 200*ms)
	fill(few, base+400*ms, 1, 0)
	if got := few.Standing(base + 400*ms); got != 200*time.Millisecond {
		t.Fatalf("%d requests: %v, want 200ms", delayMinRequests, got)
	}

	// A request taken before it arrived (clocks) counts as no wait.
	neg := newDelayMeter()
	fill(neg, base, delayMinRequests, -5*ms)
	fill(neg, base+100*ms, 1, 0)
	if got := neg.Standing(base + 100*ms); got != 0 {
		t.Fatalf("negative wait: %v, want 0", got)
	}
}
