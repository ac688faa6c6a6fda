// Package gopool runs short-lived per-call tasks on reused goroutines.
//
// A new goroutine starts with the runtime's small initial stack and copies
// it each time it doubles; the handlers of a call's SIP messages run deep
// (sipgo, the dialog layer, the channel) and grow to 8–16 KB every time.
// In the B2BUA benchmark that stack growth was 7.5% of gopbx's CPU. A
// worker that runs one task after another keeps its grown stack, so only
// the first task on it pays. Workers are made on demand (a task never
// waits for another to finish) and exit after an idle period.
//
// Only tasks that end within the call's set-up or tear-down belong here: a
// task that parks for the whole call (the dialplan of a held call) should
// run on a fresh goroutine, whose stack the GC shrinks to what it uses.
package gopool
