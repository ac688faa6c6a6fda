package channel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/lazylog"
)

// ErrHungUp is returned by operations on a channel that has hung up.
var ErrHungUp = errors.New("channel: hung up")

// CallerID is a party's name and number.
type CallerID struct {
	Name string
	Num  string
}

// String formats it as Asterisk's ${CALLERID(all)}: "Name" <Num>.
func (c CallerID) String() string {
	switch {
	case c.Name == "" && c.Num == "":
		return ""
	case c.Name == "":
		return "<" + c.Num + ">"
	}
	return `"` + c.Name + `" <` + c.Num + ">"
}

// ParseCallerID reads `"Name" <num>`, `Name <num>` or a bare number.
func ParseCallerID(s string) CallerID {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "<"); i >= 0 {
		j := strings.LastIndex(s, ">")
		if j > i {
			name := strings.TrimSpace(s[:i])
			name = strings.Trim(name, `"`)
			return CallerID{Name: name, Num: strings.TrimSpace(s[i+1 : j])}
		}
	}
	s = strings.Trim(s, `"`)
	if s != "" && strings.Trim(s, "+0123456789*#") == "" {
		return CallerID{Num: s}
	}
	return CallerID{Name: s}
}

// Driver is the technology side of one leg (a SIP dialog for chansip).
// Methods may block on the network; ctx bounds them.
type Driver interface {
	// Answer accepts an inbound call (200 OK).
	Answer(ctx context.Context, ch *Channel) error
	// Indicate signals progress to the far end (180, 183, busy...).
	Indicate(ctx context.Context, ch *Channel, ind Indication) error
	// Hangup ends the leg with cause: BYE when up, CANCEL for an outbound
	// leg still ringing, a final response for an inbound one. It must not
	// block for long and is called once.
	Hangup(ch *Channel, cause Cause)
}

// Caller is implemented by drivers that can place outbound calls.
type Caller interface {
	// Call starts calling the leg's destination. Progress arrives on the
	// channel's Events.
	Call(ctx context.Context, ch *Channel) error
}

// HeaderReader is implemented by drivers whose inbound leg has request
// headers (PJSIP_HEADER(read,...)).
type HeaderReader interface {
	Header(name string) (string, bool)
}

// EventKind is a progress event of an outbound leg.
type EventKind int

const (
	EvRinging  EventKind = iota // 180
	EvProgress                  // 183; Body holds early media SDP when present
	EvAnswer                    // 200; Body holds the answer SDP
	EvHangup                    // final failure or BYE; Cause set
)

// Event is what Dial waits for on each outbound leg.
type Event struct {
	Kind  EventKind
	Cause Cause
	// Status is the SIP status behind the event, when there is one.
	Status int
	Body   []byte
}

// Direction tells inbound from outbound legs.
type Direction int

const (
	Inbound Direction = iota
	Outbound
)

// Channel is one call leg.
type Channel struct {
	name     string
	uniqueID string
	tech     string
	resource string // endpoint name for SIP
	dir      Direction
	seq      uint32 // the registry's sequence number (its live shard)
	driver   Driver
	reg      *Registry
	created  time.Time

	ctx    context.Context
	cancel context.CancelFunc
	events chan Event

	mu        sync.Mutex
	state     State
	answered  time.Time
	cause     Cause
	hungUp    bool
	callerID  CallerID
	connected CallerID
	vars      map[string]variable
	varOrder  []string
	loc       Location
	lastApp   string
	lastData  string
	bridged   *Channel
	account   string
	language  string
	media     any
	logger    slog.Logger // Log; its handler is lh
	lh        lazylog.Deferred
	callID    string   // see SetCallID
	finished  bool     // finish has run
	onHangup  []func() // see OnHangup
	// hangupBuf holds the first callbacks: a bridged SIP call registers
	// three or four per channel, and growing the slice 1, 2, 4 cost three
	// allocations each time.
	hangupBuf [4]func()
}

type variable struct {
	value string
	level int // 0 local, 1 _VAR (one generation), 2 __VAR (forever)
}

// Location is where a channel is in the dialplan.
type Location struct {
	Context  string
	Exten    string
	Priority int
}

// Name is the channel's name, e.g. "PJSIP/1000-00000001".
func (c *Channel) Name() string { return c.name }

// UniqueID is ${UNIQUEID}: unix time and a sequence number.
func (c *Channel) UniqueID() string { return c.uniqueID }

// Tech is "PJSIP", "SIP", ...
func (c *Channel) Tech() string { return c.tech }

// Resource is the endpoint (peer) name the channel belongs to.
func (c *Channel) Resource() string { return c.resource }

// Direction says whether the leg came in or was dialled.
func (c *Channel) Direction() Direction { return c.dir }

// Driver returns the technology driver (type-assert for extras).
func (c *Channel) Driver() Driver { return c.driver }

// Created is when the channel was made.
func (c *Channel) Created() time.Time { return c.created }

// Context ends when the channel hangs up.
func (c *Channel) Context() context.Context { return c.ctx }

// Events delivers an outbound leg's progress; Dial reads it. It is nil
// for inbound legs.
func (c *Channel) Events() <-chan Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events
}

// DropEvents releases the event buffer once nobody will read it (Dial,
// when the call is answered): 0.9 KB less per held call. Later events are
// dropped.
func (c *Channel) DropEvents() {
	c.mu.Lock()
	c.events = nil
	c.mu.Unlock()
}

// Post delivers an event from the driver. It never blocks: the buffer is
// large enough for a call's progress, and a full buffer means nobody
// listens any more.
func (c *Channel) Post(ev Event) {
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	select {
	case events <- ev: // a nil channel (inbound leg, dropped) is never ready
	default:
	}
}

// Log is the channel's logger, carrying its name (chan) and, once the
// driver has set it, its call_id.
func (c *Channel) Log() *slog.Logger { return &c.logger }

// SetCallID adds call_id to what the channel's logger carries (the SIP
// driver's Call-ID of the leg).
func (c *Channel) SetCallID(id string) {
	c.mu.Lock()
	c.callID = id
	c.mu.Unlock()
}

// LogAttrs implements lazylog.Source: what the channel's logger adds to
// each record (chan, and call_id once set). The logger is held in the
// channel (lazylog.Deferred) and asks only when a record is logged, which
// saves the six allocations per channel of a lazylog logger made at
// creation and again when the driver added call_id.
func (c *Channel) LogAttrs() []slog.Attr {
	c.mu.Lock()
	id := c.callID
	c.mu.Unlock()
	if id == "" {
		return []slog.Attr{slog.String("chan", c.name)}
	}
	return []slog.Attr{slog.String("chan", c.name), slog.String("call_id", id)}
}

// State returns the call state.
func (c *Channel) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// SetState is for drivers.
func (c *Channel) SetState(s State) {
	c.mu.Lock()
	if s == StateUp && c.answered.IsZero() {
		c.answered = time.Now()
	}
	c.state = s
	c.mu.Unlock()
	c.reg.publish(Update{Kind: UpdState, Channel: c})
}

// AnsweredAt is when the channel went Up, or zero.
func (c *Channel) AnsweredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// CallerID returns the caller ID of this leg's party.
func (c *Channel) CallerID() CallerID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callerID
}

// SetCallerID sets ${CALLERID(all)}.
func (c *Channel) SetCallerID(id CallerID) {
	c.mu.Lock()
	c.callerID = id
	c.mu.Unlock()
}

// Connected is the connected line (the other party), as far as known.
func (c *Channel) Connected() CallerID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// SetConnected sets the connected line.
func (c *Channel) SetConnected(id CallerID) {
	c.mu.Lock()
	c.connected = id
	c.mu.Unlock()
}

// AccountCode is ${CHANNEL(accountcode)}.
func (c *Channel) AccountCode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
}

// SetAccountCode sets the account code.
func (c *Channel) SetAccountCode(a string) {
	c.mu.Lock()
	c.account = a
	c.mu.Unlock()
}

// Language is ${CHANNEL(language)} (prompt language), default "en".
func (c *Channel) Language() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.language == "" {
		return "en"
	}
	return c.language
}

// SetLanguage sets the prompt language.
func (c *Channel) SetLanguage(l string) {
	c.mu.Lock()
	c.language = l
	c.mu.Unlock()
}

// Location returns the dialplan position.
func (c *Channel) Location() Location {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loc
}

// SetLocation moves the channel in the dialplan (the engine and Goto).
func (c *Channel) SetLocation(l Location) {
	c.mu.Lock()
	c.loc = l
	c.mu.Unlock()
}

// SetApp records the application running, for `core show channels` and CDR.
func (c *Channel) SetApp(app, data string) {
	c.mu.Lock()
	c.lastApp, c.lastData = app, data
	c.mu.Unlock()
}

// App returns the last application and its data.
func (c *Channel) App() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastApp, c.lastData
}

// Var returns a channel variable. Names are case-sensitive, as Asterisk's;
// a leading _ or __ is ignored on lookup.
func (c *Channel) Var(name string) (string, bool) {
	name, _ = splitInherit(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.vars[name]
	return v.value, ok
}

// SetVar sets a variable; "_NAME" is inherited by channels this one dials,
// "__NAME" by all their descendants too. An empty value deletes it, as
// Set(VAR=) does in Asterisk.
func (c *Channel) SetVar(name, value string) {
	name, level := splitInherit(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if value == "" {
		if _, ok := c.vars[name]; ok {
			delete(c.vars, name)
			for i, n := range c.varOrder {
				if n == name {
					c.varOrder = append(c.varOrder[:i], c.varOrder[i+1:]...)
					break
				}
			}
		}
		return
	}
	if _, ok := c.vars[name]; !ok {
		if c.varOrder == nil {
			// A call's channels get half a dozen variables (DIALSTATUS,
			// ANSWEREDTIME...): one allocation instead of growing 1, 2, 4.
			c.varOrder = make([]string, 0, 8)
		}
		c.varOrder = append(c.varOrder, name)
	}
	c.vars[name] = variable{value: value, level: level}
}

// Vars returns the variables in the order they were first set, with their
// inheritance prefix.
func (c *Channel) Vars() [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][2]string, 0, len(c.varOrder))
	for _, n := range c.varOrder {
		v := c.vars[n]
		out = append(out, [2]string{strings.Repeat("_", v.level) + n, v.value})
	}
	return out
}

// Inherit copies parent's inheritable variables into c: _VAR becomes a
// plain variable, __VAR stays __VAR.
func (c *Channel) Inherit(parent *Channel) {
	parent.mu.Lock()
	type kv struct {
		name string
		v    variable
	}
	var vs []kv
	for _, n := range parent.varOrder {
		v := parent.vars[n]
		if v.level > 0 {
			vs = append(vs, kv{n, v})
		}
	}
	parent.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range vs {
		lvl := 0
		if x.v.level == 2 {
			lvl = 2
		}
		if _, ok := c.vars[x.name]; !ok {
			c.varOrder = append(c.varOrder, x.name)
		}
		c.vars[x.name] = variable{value: x.v.value, level: lvl}
	}
}

func splitInherit(name string) (string, int) {
	switch {
	case strings.HasPrefix(name, "__"):
		return name[2:], 2
	case strings.HasPrefix(name, "_"):
		return name[1:], 1
	}
	return name, 0
}

// Header reads a request header of the inbound leg (PJSIP_HEADER).
func (c *Channel) Header(name string) (string, bool) {
	if hr, ok := c.driver.(HeaderReader); ok {
		return hr.Header(name)
	}
	return "", false
}

// Media is the media-session slot: the media engine stores its session
// here; until then drivers keep the SDP they pass through.
func (c *Channel) Media() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

// SetMedia fills the media-session slot.
func (c *Channel) SetMedia(m any) {
	c.mu.Lock()
	c.media = m
	c.mu.Unlock()
}

// Bridged is the channel this one is talking to, or nil.
func (c *Channel) Bridged() *Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bridged
}

// Answer answers an inbound channel (a no-op when already Up).
func (c *Channel) Answer(ctx context.Context) error {
	if c.State() == StateUp {
		return nil
	}
	if c.HungUp() {
		return ErrHungUp
	}
	if err := c.driver.Answer(ctx, c); err != nil {
		return fmt.Errorf("channel %s: answer: %w", c.name, err)
	}
	c.SetState(StateUp)
	return nil
}

// Indicate sends a progress indication to the far end.
func (c *Channel) Indicate(ctx context.Context, ind Indication) error {
	if c.HungUp() {
		return ErrHungUp
	}
	return c.driver.Indicate(ctx, c, ind)
}

// Call starts an outbound call; the driver must implement Caller.
func (c *Channel) Call(ctx context.Context) error {
	cl, ok := c.driver.(Caller)
	if !ok {
		return fmt.Errorf("channel %s: technology cannot place calls", c.name)
	}
	c.SetState(StateDialing)
	return cl.Call(ctx, c)
}

// Hangup ends the channel with cause; later calls do nothing. It cancels
// the channel's context. Cause 0 means "the cause already recorded (a
// failed Dial's, say), else normal clearing", which is what the dialplan
// uses when it runs out; Hangup(17) from the Hangup app overrides.
func (c *Channel) Hangup(cause Cause) {
	c.mu.Lock()
	if c.hungUp {
		c.mu.Unlock()
		return
	}
	c.hungUp = true
	switch {
	case cause != 0:
		c.cause = cause
	case c.cause == 0:
		c.cause = CauseNormalClearing
	}
	cause = c.cause
	c.mu.Unlock()
	c.driver.Hangup(c, cause)
	c.finish()
}

// finish releases what a hung-up channel holds: its context, its place in
// the registry and its bridge.
func (c *Channel) finish() {
	c.mu.Lock()
	bridged := c.bridged
	c.finished = true
	fs := c.onHangup // nothing appends once finished is set
	c.onHangup = nil
	c.mu.Unlock()
	c.cancel()
	c.reg.remove(c)
	if bridged != nil {
		bridged.unbridge(c)
	}
	if len(fs) > 0 {
		go runAll(fs)
	}
}

// runAll runs fs and then forgets them, so that a hung-up channel someone
// still refers to keeps none of the callbacks' closures alive (fs may be
// the channel's hangupBuf).
func runAll(fs []func()) {
	for _, f := range fs {
		f()
	}
	clear(fs)
}

// OnHangup runs f in its own goroutine once the channel has hung up (at
// once if it has), like context.AfterFunc(c.Context(), f). It is the
// cheaper form for per-call clean-up: an entry in a slice instead of a
// context node plus a map entry in the channel context's children, which
// came to about 1.7 KB per held call (bench held-calls-direct).
func (c *Channel) OnHangup(f func()) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		go f()
		return
	}
	if c.onHangup == nil {
		c.onHangup = c.hangupBuf[:0]
	}
	c.onHangup = append(c.onHangup, f)
	c.mu.Unlock()
}

// Gone is called by a driver when the far end hung up (BYE, CANCEL, a
// failure): it records the cause and ends the channel without signalling
// back to the far end.
func (c *Channel) Gone(cause Cause) {
	c.mu.Lock()
	if c.hungUp {
		c.mu.Unlock()
		return
	}
	c.hungUp = true
	c.cause = cause
	c.mu.Unlock()
	c.Post(Event{Kind: EvHangup, Cause: cause})
	c.finish()
}

// SetHangupCause records the cause without hanging up (Dial does this for
// the failure of the legs it called).
func (c *Channel) SetHangupCause(cause Cause) {
	c.mu.Lock()
	c.cause = cause
	c.mu.Unlock()
}

// HungUp reports whether the channel has ended.
func (c *Channel) HungUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hungUp
}

// HangupCause is ${HANGUPCAUSE}.
func (c *Channel) HangupCause() Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

func (c *Channel) unbridge(peer *Channel) {
	c.mu.Lock()
	if c.bridged == peer {
		c.bridged = nil
	}
	c.mu.Unlock()
}

// Bridge joins a and b: each is the other's Bridged(), and when one hangs
// up the other is told through its context (the caller decides what to do,
// normally hang it up too).
func Bridge(a, b *Channel) {
	a.mu.Lock()
	a.bridged = b
	a.mu.Unlock()
	b.mu.Lock()
	b.bridged = a
	b.mu.Unlock()
	JoinMedia(a, b)
	a.reg.publish(Update{Kind: UpdBridge, Channel: a, Peer: b})
}
