package cdr

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
)

// Backend receives finished records, as Asterisk's CDR backends do.
type Backend interface {
	// Log writes recs, oldest hangup first. The collector calls it from one
	// goroutine and logs an error it returns; the records are not retried.
	// recs is the collector's: it reuses the slice once Log returns, so a
	// backend keeping records must copy them.
	Log(ctx context.Context, recs []Record) error
}

// BackendFunc adapts a function to Backend.
type BackendFunc func(ctx context.Context, recs []Record) error

// Log calls f.
func (f BackendFunc) Log(ctx context.Context, recs []Record) error { return f(ctx, recs) }

// Channel variables the collector reads, standing in for Asterisk's CDR()
// function until the dialplan has one.
const (
	VarUserField  = "CDR_USERFIELD" // CDR(userfield)
	VarAMAFlags   = "CDR_AMAFLAGS"  // CDR(amaflags): OMIT, BILLING or DOCUMENTATION
	VarDialStatus = "DIALSTATUS"
)

// DefaultQueueSize is how many channel updates wait for the collector
// before further ones are dropped (hangups never are).
const DefaultQueueSize = 4096

// gatherWindow is how long the event loop lets updates queue up after the
// first one before it takes them all. Handled one by one as calls trickled
// in, every update woke the loop and every record was written on its own:
// an open, write and close of Master.csv and an SQLite transaction per
// call (45 µs of CPU for the transaction alone, 15 µs a record in batches
// of 16). At 1,500 calls/s a window holds ~150 updates and ~15 records,
// and BenchmarkCollector/paced (csv and sqlite) went from ~140 µs of CPU
// per call for the CDRs to ~55 µs. Records reach the backends this much
// later, which nothing waits for: a crash loses the records of the calls
// that ended in the last window as it lost those still queued, and
// Shutdown still writes every record before it returns.
const gatherWindow = 10 * time.Millisecond

// maxGather is the most updates the event loop lets queue up before it
// takes them without waiting out the gather window (half the queue if
// that is less): a larger batch saves no more wake-ups, and the ~450
// bytes an update takes then no longer stay in the CPU's caches.
const maxGather = 1024

// maxPending bounds the records waiting for slow backends.
const maxPending = 100000

// maxSpare is the capacity up to which flushLoop keeps a batch's slice for
// the next one.
const maxSpare = 4096

// Option configures New.
type Option func(*Collector)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Collector) { c.log = l } }

// WithBackend adds a backend; name is what `cdr show status` lists
// ("csv", "sqlite"). Backends get each batch in the order they were added.
func WithBackend(name string, b Backend) Option {
	return func(c *Collector) { c.backends = append(c.backends, namedBackend{name, b}) }
}

// WithQueueSize sets how many channel updates may wait (DefaultQueueSize).
func WithQueueSize(n int) Option { return func(c *Collector) { c.queueSize = n } }

type namedBackend struct {
	name string
	b    Backend
}

// Collector turns channel updates into call detail records: one record per
// inbound channel, written to every backend after the channel hangs up.
//
// The registry calls subscribers synchronously, so the collector's
// subscriber only copies what it needs from the channel and queues it; a
// goroutine builds the records and another writes them, so neither slow
// disks nor a busy collector ever hold up a call. The first goroutine
// takes the queued updates in batches, gatherWindow after the first one
// (sooner when maxGather or half the queue are waiting), and hands each
// batch's records to the backends together. When the queue is full an
// update is dropped with an error logged, except a hangup, which is always
// kept (there is one per channel, so they are bounded by the calls in
// progress).
//
// # Which record, which fields
//
// Asterisk's CDR engine, for the common two-party call, gives the record
// to the originating party (party A, our inbound channel) and names the
// dialled party (party B) in dstchannel; dialled channels get no record of
// their own. The collector does the same, with one record per call:
//
//   - src, clid: the inbound channel's caller ID at hangup.
//   - dst, dcontext, lastapp, lastdata: where the channel was in the
//     dialplan and the application it ran, as last seen before hangup (the
//     h extension excluded). Once the channel runs Dial they stop
//     following it, as Asterisk locks lastapp at Dial: the record shows
//     Dial and the extension that dialled.
//   - dstchannel: the channel it was bridged to, else the last one it
//     dialled (known through DialBegin).
//   - start: the inbound channel's creation; answer: when it went Up (zero
//     if it never did); end: when it hung up.
//   - accountcode, userfield (CDR_USERFIELD, with party B's appended after
//     a ';' as Asterisk does), amaflags (CDR_AMAFLAGS, else DOCUMENTATION):
//     from the channel at hangup.
//
// The dialplan position is seen only when the channel changes (state,
// bridge, DialBegin, hangup), since the channel model publishes nothing
// when it moves in the dialplan.
//
// The disposition follows cdr.c:
//
//  1. ANSWERED if the inbound channel was answered.
//  2. Otherwise, if it hung up while the channel it dialled still rang,
//     the caller gave up: Dial's CANCEL, below.
//  3. Otherwise DIALSTATUS, when Dial set it (dial_status_to_disposition):
//     BUSY → BUSY; NOANSWER and CANCEL → NO ANSWER (CANCEL with
//     canceldispositionenabled=yes); CONGESTION → FAILED (CONGESTION with
//     congestion=yes); ANSWER → ANSWERED; anything else (CHANUNAVAIL,
//     FAILED, DONTCALL...) → FAILED.
//  4. Otherwise the hangup cause of the inbound channel, or if it has none
//     that of party B (cdr_object_set_disposition): 17 user busy → BUSY;
//     34 circuit congestion → FAILED (CONGESTION with congestion=yes); 3
//     no route and 20 subscriber absent → FAILED; any other cause, 16
//     normal clearing and 19 no answer among them, → NO ANSWER (Asterisk
//     leaves the disposition unset, which it logs as NO ANSWER).
//  5. FAILED when neither channel has a cause.
//
// With unanswered=no (the default) a record that is not ANSWERED,
// CONGESTION or CANCEL and has no dstchannel is not logged, as post_cdr
// does: a call that dialled somebody is always logged.
type Collector struct {
	cfg       *Config
	log       *slog.Logger
	backends  []namedBackend
	queueSize int

	// The updates waiting for the event loop, oldest first. Publishers
	// append under qmu; the loop takes the whole slice and leaves the one
	// it emptied last time in its place, so the queue does not allocate
	// once it has grown to the usual batch.
	qmu     sync.Mutex
	queued  []event
	closed  atomic.Bool   // set under qmu: nothing is queued after it
	wake    chan struct{} // capacity 1: queued is no longer empty
	hurry   chan struct{} // capacity 1: queued holds hurryAt, skip the wait
	hurryAt int           // maxGather or half the queue, whichever is less
	gather  time.Duration // gatherWindow

	stop        chan struct{}
	stopOnce    sync.Once
	loopDone    chan struct{}
	flushDone   chan struct{}
	dropped     atomic.Uint64
	lastDropLog atomic.Int64

	// Owned by the event loop.
	calls map[*channel.Channel]*call
	legs  map[*channel.Channel]*call // dialled or bridged channel → the call it belongs to
	seq   int64

	kick chan struct{} // capacity 1: "pending is not empty"

	mu        sync.Mutex // guards what follows
	pending   []Record
	nextBatch time.Time
	stats     Stats

	spare []Record // owned by flushLoop: the last batch, emptied, for the next
}

// Stats counts the collector's work.
type Stats struct {
	Logged     uint64 // records handed to the backends
	Suppressed uint64 // unanswered records left out (cdr.conf unanswered=no)
	Dropped    uint64 // channel updates dropped because the queue was full
	Lost       uint64 // records dropped because the backends fell too far behind
	Failed     uint64 // backend writes that failed
}

// New starts a collector with cfg (nil means Default) and subscribes it to
// reg. With cfg.Enable off it subscribes to nothing and logs nothing, but
// still reports its status. Shutdown stops it.
func New(reg *channel.Registry, cfg *Config, opts ...Option) *Collector {
	if cfg == nil {
		cfg = Default()
	}
	c := &Collector{
		cfg:       cfg,
		queueSize: DefaultQueueSize,
		wake:      make(chan struct{}, 1),
		hurry:     make(chan struct{}, 1),
		gather:    gatherWindow,
		stop:      make(chan struct{}),
		loopDone:  make(chan struct{}),
		flushDone: make(chan struct{}),
		kick:      make(chan struct{}, 1),
		calls:     map[*channel.Channel]*call{},
		legs:      map[*channel.Channel]*call{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "cdr")
	if c.queueSize < 1 {
		c.queueSize = 1
	}
	c.hurryAt = min((c.queueSize+1)/2, maxGather)
	if cfg.Batch {
		c.nextBatch = time.Now().Add(cfg.BatchTime)
	}
	go c.run()
	go c.flushLoop()
	if cfg.Enable {
		reg.Subscribe(c.update)
	}
	return c
}

// Config returns the configuration the collector runs with.
func (c *Collector) Config() *Config { return c.cfg }

// Stats returns the counters.
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Dropped = c.dropped.Load()
	return s
}

// DialBegin tells the collector that caller is dialling peer, as
// Asterisk's dial begin message does: peer becomes the record's
// dstchannel unless caller is bridged to another channel, and caller's
// lastapp and dst are taken now (Dial and its extension). Dial calls it
// after creating each outbound channel; without it an unanswered call
// has no dstchannel, and with cdr.conf unanswered=no is not logged. It
// never blocks.
func (c *Collector) DialBegin(caller, peer *channel.Channel) {
	if caller == nil || peer == nil || !c.cfg.Enable {
		return
	}
	c.enqueue(event{kind: evDial, ch: caller, peer: peer, snap: snap(caller), peerSnap: snap(peer)})
}

// Requester creates outbound channels: *channel.Registry is one, and
// app/dial's Dialer is this interface too.
type Requester interface {
	Request(ctx context.Context, tech, resource string, caller *channel.Channel) (*channel.Channel, error)
}

// WrapRequester returns next reporting every channel it creates for a
// caller to DialBegin, so Dial needs no change: give Dial
// col.WrapRequester(reg) instead of reg.
func (c *Collector) WrapRequester(next Requester) Requester {
	return requester{c, next}
}

type requester struct {
	c    *Collector
	next Requester
}

func (r requester) Request(ctx context.Context, tech, resource string, caller *channel.Channel) (*channel.Channel, error) {
	ch, err := r.next.Request(ctx, tech, resource, caller)
	if err == nil && caller != nil {
		r.c.DialBegin(caller, ch)
	}
	return ch, err
}

// Shutdown stops taking updates, ends the records of calls still up (their
// end is now, as Asterisk does at shutdown), writes every record to the
// backends and returns. If ctx ends first it returns ctx's error and the
// writing goes on in the background.
func (c *Collector) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() {
		c.qmu.Lock()
		c.closed.Store(true)
		c.qmu.Unlock()
		close(c.stop)
	})
	select {
	case <-c.flushDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// event kinds: channel.UpdateKind values, plus DialBegin.
const evDial = channel.UpdHangup + 100

type event struct {
	kind           channel.UpdateKind
	at             time.Time // of a hangup: the record's end
	ch, peer       *channel.Channel
	snap, peerSnap snapshot
}

// snapshot is what a record needs from a channel, copied when the update
// is published, before the channel moves on.
type snapshot struct {
	loc        channel.Location
	app, data  string
	callerID   channel.CallerID
	account    string
	answered   time.Time
	cause      channel.Cause
	dialStatus string
	userField  string
	amaFlags   string
}

func snap(ch *channel.Channel) snapshot {
	s := snapshot{
		loc:      ch.Location(),
		callerID: ch.CallerID(),
		account:  ch.AccountCode(),
		answered: ch.AnsweredAt(),
		cause:    ch.HangupCause(),
	}
	s.app, s.data = ch.App()
	s.dialStatus, _ = ch.Var(VarDialStatus)
	s.userField, _ = ch.Var(VarUserField)
	s.amaFlags, _ = ch.Var(VarAMAFlags)
	return s
}

// update is the registry subscriber. It must stay quick: the publisher
// waits for it.
func (c *Collector) update(u channel.Update) {
	if c.closed.Load() {
		return
	}
	if u.Kind == channel.UpdNew && u.Channel.Direction() != channel.Inbound {
		// A new outbound channel belongs to no call yet: the Dial or
		// Bridge update that makes it one's leg comes later, with its
		// own snapshot, so the event loop would only discard this one.
		return
	}
	if u.Kind == channel.UpdDial {
		c.DialBegin(u.Channel, u.Peer)
		return
	}
	ev := event{kind: u.Kind, ch: u.Channel, snap: snap(u.Channel)}
	if u.Kind == channel.UpdHangup {
		ev.at = time.Now()
	}
	if u.Peer != nil {
		ev.peer, ev.peerSnap = u.Peer, snap(u.Peer)
	}
	c.enqueue(ev)
}

// enqueue queues ev for the event loop, in order. A full queue takes only
// hangups.
func (c *Collector) enqueue(ev event) {
	c.qmu.Lock()
	if c.closed.Load() {
		c.qmu.Unlock()
		return
	}
	n := len(c.queued)
	if n >= c.queueSize && ev.kind != channel.UpdHangup {
		c.qmu.Unlock()
		c.drop(ev)
		return
	}
	c.queued = append(c.queued, ev)
	c.qmu.Unlock()
	if n == 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	if n+1 >= c.hurryAt {
		select {
		case c.hurry <- struct{}{}:
		default:
		}
	}
}

func (c *Collector) drop(ev event) {
	n := c.dropped.Add(1)
	now := time.Now().UnixNano()
	if last := c.lastDropLog.Load(); now-last >= int64(time.Second) && c.lastDropLog.CompareAndSwap(last, now) {
		c.log.Error("cdr queue full, channel update dropped", "chan", ev.ch.Name(), "dropped_total", n)
	}
}

// call is the record being built for one inbound channel.
type call struct {
	ch       *channel.Channel
	seq      int64
	last     snapshot // the latest
	dst      string
	dcontext string
	app      string
	data     string
	locked   bool // Dial seen: app, data, dst and dcontext stay
	peer     *leg // bridged to
	dialed   *leg // last dialled
	first    leg  // the storage of the first of them
}

// leg is a channel the call dialled or was bridged to.
type leg struct {
	ch    *channel.Channel
	last  snapshot
	ended bool
}

// run is the event loop: it waits for an update, lets more queue up for
// the gather window, handles them all, then has the new records written.
func (c *Collector) run() {
	defer close(c.loopDone)
	timer := time.NewTimer(c.gather)
	timer.Stop()
	var evs []event
	for stopping := false; !stopping; {
		select {
		case <-c.wake:
			timer.Reset(c.gather)
			select {
			case <-timer.C:
			case <-c.hurry:
				timer.Stop()
			case <-c.stop:
				stopping = true
			}
		case <-c.stop:
			stopping = true
		}
		// After stop nothing more is queued (closed is set under qmu), so
		// this last take gets every update.
		evs = c.take(evs)
		for i := range evs {
			c.handle(&evs[i])
		}
		clear(evs) // keep no hung-up channel alive until the next batch
		if stopping {
			c.endAll(time.Now())
		}
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n > 0 {
			select {
			case c.kick <- struct{}{}:
			default:
			}
		}
	}
}

// take returns the queued updates and leaves buf, whose updates have been
// handled and cleared, as the queue.
func (c *Collector) take(buf []event) []event {
	if cap(buf) > c.queueSize {
		buf = nil // hangups past a full queue grew it: let it go
	}
	c.qmu.Lock()
	evs := c.queued
	c.queued = buf[:0]
	c.qmu.Unlock()
	select {
	case <-c.hurry: // taken care of
	default:
	}
	return evs
}

func (c *Collector) handle(ev *event) {
	if ev.kind == evDial {
		if ev.ch.Direction() != channel.Inbound {
			return
		}
		cl := c.track(ev.ch)
		cl.observe(&ev.snap)
		cl.dialed = c.legFor(cl, ev.peer, &ev.peerSnap)
		return
	}
	c.updateLeg(ev.ch, &ev.snap, ev.kind == channel.UpdHangup)
	if ev.peer != nil {
		c.updateLeg(ev.peer, &ev.peerSnap, false)
	}
	if ev.kind == channel.UpdBridge && ev.peer != nil {
		for _, p := range [][2]*channel.Channel{{ev.ch, ev.peer}, {ev.peer, ev.ch}} {
			if p[0].Direction() != channel.Inbound {
				continue
			}
			cl := c.track(p[0])
			s, ps := &ev.snap, &ev.peerSnap
			if p[0] == ev.peer {
				s, ps = ps, s
			}
			cl.observe(s)
			cl.peer = c.legFor(cl, p[1], ps)
		}
		return
	}
	if ev.ch.Direction() != channel.Inbound {
		return
	}
	cl := c.track(ev.ch)
	cl.observe(&ev.snap)
	if ev.kind == channel.UpdHangup {
		c.end(cl, ev.at)
	}
}

// track returns the call of inbound channel ch, starting one if needed:
// any update may be the first one seen, since updates can be dropped.
func (c *Collector) track(ch *channel.Channel) *call {
	cl := c.calls[ch]
	if cl == nil {
		cl = &call{ch: ch, seq: c.seq}
		c.seq++
		c.calls[ch] = cl
	}
	return cl
}

// legFor returns ch as a leg of cl, reusing the leg cl already has for it.
// The first leg is cl.first, so the usual call (Dial, then a bridge to the
// channel dialled) allocates none.
func (c *Collector) legFor(cl *call, ch *channel.Channel, s *snapshot) *leg {
	for _, l := range [...]*leg{cl.peer, cl.dialed} {
		if l != nil && l.ch == ch {
			l.last = *s
			return l
		}
	}
	c.legs[ch] = cl
	if cl.first.ch == nil {
		cl.first = leg{ch: ch, last: *s}
		return &cl.first
	}
	return &leg{ch: ch, last: *s}
}

// updateLeg records a leg's new state in the call it belongs to.
func (c *Collector) updateLeg(ch *channel.Channel, s *snapshot, hangup bool) {
	cl := c.legs[ch]
	if cl == nil {
		return
	}
	for _, l := range [...]*leg{cl.peer, cl.dialed} {
		if l != nil && l.ch == ch {
			l.last = *s
			l.ended = l.ended || hangup
		}
	}
	if hangup {
		delete(c.legs, ch)
	}
}

func (cl *call) observe(s *snapshot) {
	cl.last = *s
	if cl.locked || s.loc.Exten == "h" {
		return
	}
	if s.loc.Exten != "" {
		cl.dst, cl.dcontext = s.loc.Exten, s.loc.Context
	}
	// Asterisk ignores originate's placeholder application (AppDial) once
	// there is a real one, and locks the fields at Dial.
	if s.app != "" && (!(len(s.app) >= 7 && strings.EqualFold(s.app[:7], "appdial")) || cl.app == "") {
		cl.app, cl.data = s.app, s.data
		if s.app == "Dial" {
			cl.locked = true
		}
	}
}

// partyB is the channel the record names in dstchannel.
func (cl *call) partyB() *leg {
	if cl.peer != nil {
		return cl.peer
	}
	return cl.dialed
}

// end finishes cl's record and queues it for the backends; run has them
// written after the batch of updates it is handling.
func (c *Collector) end(cl *call, at time.Time) {
	delete(c.calls, cl.ch)
	for _, l := range [...]*leg{cl.peer, cl.dialed} {
		if l != nil && c.legs[l.ch] == cl {
			delete(c.legs, l.ch)
		}
	}
	r := c.record(cl, at)
	if !c.cfg.Unanswered && r.Disposition < Answered && r.DstChannel == "" {
		// post_cdr: "For people, who don't want to see unanswered
		// single-channel events".
		c.mu.Lock()
		c.stats.Suppressed++
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	if len(c.pending) >= maxPending {
		c.stats.Lost++
		c.mu.Unlock()
		c.log.Error("cdr backends too slow, record lost", "chan", r.Channel, "uniqueid", r.UniqueID)
		return
	}
	c.pending = append(c.pending, r)
	c.mu.Unlock()
}

// endAll ends the calls still up, oldest first (at shutdown).
func (c *Collector) endAll(at time.Time) {
	cls := make([]*call, 0, len(c.calls))
	for _, cl := range c.calls {
		s := snap(cl.ch)
		cl.observe(&s)
		cls = append(cls, cl)
	}
	slices.SortFunc(cls, func(a, b *call) int { return cmp.Compare(a.seq, b.seq) })
	for _, cl := range cls {
		c.end(cl, at)
	}
}

func (c *Collector) record(cl *call, end time.Time) Record {
	s := &cl.last
	r := Record{
		AccountCode: s.account,
		Src:         s.callerID.Num,
		Dst:         cl.dst,
		DContext:    cl.dcontext,
		CLID:        CLID(s.callerID.Name, s.callerID.Num),
		Channel:     cl.ch.Name(),
		LastApp:     cl.app,
		LastData:    cl.data,
		Start:       cl.ch.Created(),
		Answer:      s.answered,
		End:         end,
		AMAFlags:    amaFlags(s.amaFlags),
		UniqueID:    cl.ch.UniqueID(),
		UserField:   s.userField,
		LinkedID:    cl.ch.UniqueID(),
		Sequence:    cl.seq,
	}
	r.Duration, r.BillSec = Seconds(r.Start, r.Answer, r.End, c.cfg.InitiatedSeconds)
	b := cl.partyB()
	if b != nil {
		r.DstChannel = b.ch.Name()
		r.PeerAccount = b.last.account
		if b.last.userField != "" {
			r.UserField = s.userField + ";" + b.last.userField
		}
	}
	r.Disposition = c.disposition(cl, b)
	return r
}

// disposition decides the record's outcome; the Collector doc lists the rules.
func (c *Collector) disposition(cl *call, b *leg) Disposition {
	s := &cl.last
	if !s.answered.IsZero() {
		return Answered
	}
	status := s.dialStatus
	if b != nil && b == cl.dialed && !b.ended && b.last.answered.IsZero() {
		status = "CANCEL"
	}
	if status != "" {
		return c.fromDialStatus(status)
	}
	if s.cause != 0 {
		return c.fromCause(s.cause)
	}
	if b != nil && b.last.cause != 0 {
		return c.fromCause(b.last.cause)
	}
	return Failed
}

func (c *Collector) fromDialStatus(status string) Disposition {
	switch status {
	case "ANSWER":
		return Answered
	case "BUSY":
		return Busy
	case "CANCEL":
		if c.cfg.CancelDisposition {
			return Cancel
		}
		return NoAnswer
	case "NOANSWER":
		return NoAnswer
	case "CONGESTION":
		if c.cfg.Congestion {
			return Congestion
		}
		return Failed
	}
	return Failed
}

func (c *Collector) fromCause(cause channel.Cause) Disposition {
	switch cause {
	case channel.CauseUserBusy:
		return Busy
	case channel.CauseNormalCircuitCongestion:
		if c.cfg.Congestion {
			return Congestion
		}
		return Failed
	case channel.CauseNoRouteDestination, channel.CauseSubscriberAbsent:
		return Failed
	}
	return NoAnswer
}

func amaFlags(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "OMIT", "1":
		return "OMIT"
	case "BILLING", "2":
		return "BILLING"
	}
	return AMADocumentation
}

// flushLoop hands pending records to the backends: as soon as they come,
// or in batch mode when BatchSize are waiting or BatchTime has passed.
func (c *Collector) flushLoop() {
	defer close(c.flushDone)
	var tick <-chan time.Time
	var timer *time.Timer
	if c.cfg.Batch {
		timer = time.NewTimer(c.cfg.BatchTime)
		defer timer.Stop()
		tick = timer.C
	}
	for {
		select {
		case <-c.kick:
			if c.cfg.Batch {
				c.mu.Lock()
				n := len(c.pending)
				c.mu.Unlock()
				if n < c.cfg.BatchSize {
					continue
				}
			}
		case <-tick:
		case <-c.loopDone:
			c.flush()
			return
		}
		if timer != nil {
			timer.Reset(c.cfg.BatchTime)
		}
		c.flush()
	}
}

func (c *Collector) flush() {
	c.mu.Lock()
	recs := c.pending
	c.pending, c.spare = c.spare, nil
	if c.cfg.Batch {
		c.nextBatch = time.Now().Add(c.cfg.BatchTime)
	}
	c.mu.Unlock()
	if len(recs) > 0 {
		var failed uint64
		for _, nb := range c.backends {
			if err := nb.b.Log(context.Background(), recs); err != nil {
				failed++
				c.log.Error("cdr backend failed", "backend", nb.name, "records", len(recs), "err", err)
			}
		}
		c.mu.Lock()
		c.stats.Logged += uint64(len(recs))
		c.stats.Failed += failed
		c.mu.Unlock()
	}
	// The backends are done with recs (Backend.Log): keep the slice for
	// the next batch, unless a backlog grew it far beyond one.
	if cap(recs) <= maxSpare {
		clear(recs)
		c.spare = recs[:0]
	}
}
