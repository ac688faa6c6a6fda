package chansip

import (
	"testing"
	"time"
)

// TestInflight: idle is closed at once with nothing in flight, else once
// the last message in flight finishes, however many were added meanwhile.
func TestInflight(t *testing.T) {
	var f inflight
	select {
	case <-f.idle():
	default:
		t.Fatal("nothing in flight, yet not idle")
	}
	f.add()
	idle := f.idle()
	f.add()
	f.finish()
	select {
	case <-idle:
		t.Fatal("idle with one still in flight")
	default:
	}
	if f.idle() != idle {
		t.Error("a second waiter gets another channel")
	}
	f.finish()
	select {
	case <-idle:
	case <-time.After(time.Second):
		t.Fatal("not idle after the last finished")
	}
	f.add() // a new round gets a new channel
	if again := f.idle(); again == idle {
		t.Error("the closed channel came back for a new message in flight")
	}
	f.finish()
}
