package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/lazylog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/function"
)

// Errors Run returns. Each wraps the detail (location, application).
var (
	// ErrNoApplication: a priority names an application nobody
	// registered ("No application 'dila' for extension...").
	ErrNoApplication = errors.New("dialplan: no application")
	// ErrInvalidExtension: the channel is at an extension that does not
	// exist and the context has no 'i' extension.
	ErrInvalidExtension = errors.New("dialplan: invalid extension")
	// ErrLoop: the loop guard stopped a call that executed more than the
	// allowed number of priorities within one second.
	ErrLoop = errors.New("dialplan: too many priorities executed within one second, stopping (a loop in the dialplan?)")
	// ErrNotRunning: Gosub, Return or Goto called from outside a run.
	ErrNotRunning = errors.New("dialplan: channel is not running the dialplan")
)

// DefaultMaxSteps is how many priorities a call may execute within one
// second before the loop guard stops it.
const DefaultMaxSteps = 1000

// Engine runs channels through a dialplan. It owns the global variables
// and one instance of every registered application and function. It is
// safe for concurrent use: each Run belongs to one call.
type Engine struct {
	dp       atomic.Pointer[Dialplan]
	log      *slog.Logger
	reg      *channel.Registry
	globals  *Globals
	now      func() time.Time
	maxSteps int
	apps     map[string]appEntry // lower-case name
	funcs    funcTable
	media    *app.MediaEnv
}

type appEntry struct {
	name string // as registered
	app  app.App
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithRegistry sets the channel registry applications get (Dial needs the
// real one; default: an empty registry).
func WithRegistry(r *channel.Registry) Option { return func(e *Engine) { e.reg = r } }

// WithClock sets the clock used by timed includes, GotoIfTime, ${EPOCH}
// and STRFTIME (default time.Now).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithMedia gives the voice applications their prompts, tones and music.
func WithMedia(m *app.MediaEnv) Option { return func(e *Engine) { e.media = m } }

// WithMaxSteps sets the loop guard: how many priorities a call may execute
// within one second (default DefaultMaxSteps).
func WithMaxSteps(n int) Option { return func(e *Engine) { e.maxSteps = n } }

// NewEngine returns an engine running dp, with dp's [globals] set. It
// instantiates every registered application and function; a factory that
// fails makes NewEngine fail.
func NewEngine(dp *Dialplan, opts ...Option) (*Engine, error) {
	e := &Engine{globals: NewGlobals(), now: time.Now, maxSteps: DefaultMaxSteps}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.reg == nil {
		e.reg = channel.NewRegistry(e.log)
	}
	if e.maxSteps <= 0 {
		e.maxSteps = DefaultMaxSteps
	}
	if e.media == nil {
		e.media = app.NewMediaEnv(nil, nil, nil)
	}
	e.funcs = newFuncTable(e.globals, e, e.log, e.now)
	e.apps = map[string]appEntry{}
	for _, name := range app.Names() {
		f, canonical, _ := app.Lookup(name)
		a, err := f(&app.Env{
			Channels: e.reg,
			Log:      lazylog.With(e.log, slog.String("app", canonical)),
			Dialplan: e,
			Vars:     e,
			Now:      e.now,
			Media:    e.media,
		})
		if err != nil {
			return nil, fmt.Errorf("dialplan: application %s: %w", canonical, err)
		}
		// Under its lowered name, and as Asterisk spells it, which is how
		// dialplans write it: exec finds those without lowering each time.
		e.apps[strings.ToLower(canonical)] = appEntry{name: canonical, app: a}
		e.apps[canonical] = appEntry{name: canonical, app: a}
	}
	e.Reload(dp)
	return e, nil
}

// Dialplan returns the dialplan in use.
func (e *Engine) Dialplan() *Dialplan { return e.dp.Load() }

// Globals returns the engine's global variables.
func (e *Engine) Globals() *Globals { return e.globals }

// Reload switches to dp: calls in progress continue in it from their
// current location, as after "dialplan reload". dp's [globals] are set;
// with clearglobalvars=yes the others are deleted first.
func (e *Engine) Reload(dp *Dialplan) {
	if dp.General.ClearGlobalVars {
		e.globals.Clear()
	}
	for _, g := range dp.Globals {
		e.globals.SetGlobal(g.Name, g.Value)
	}
	e.dp.Store(dp)
}

// runKey is the context key of the current run's state.
type runKey struct{}

// runState is one loop over a channel's priorities: Run's, or a nested
// one (Macro, Sub). Only the goroutine running the channel touches it.
type runState struct {
	ch      *channel.Channel
	jumped  bool // an application moved the channel: do not add 1
	subDone bool // a Return popped the frame Sub pushed for this run
	inH     bool // running the h extension: hangup does not stop it
	stack   *[]*frame
	guard   *stepGuard
	dry     *dryRun
}

func runFrom(ctx context.Context) *runState {
	st, _ := ctx.Value(runKey{}).(*runState)
	return st
}

// child returns the state of a nested run on ch inside parent (which may
// be nil or belong to another channel).
func (e *Engine) child(parent *runState, ch *channel.Channel) *runState {
	st := &runState{ch: ch}
	if parent != nil {
		st.guard, st.dry, st.inH = parent.guard, parent.dry, parent.inH
		if parent.ch == ch {
			st.stack = parent.stack
		}
	}
	if st.stack == nil {
		st.stack = new([]*frame)
	}
	if st.guard == nil {
		st.guard = e.newGuard(false)
	}
	return st
}

// stepGuard stops runaway loops: at most max priorities per second of
// wall-clock time (in a dry run, at most max priorities in all).
type stepGuard struct {
	max   int
	count int
	start time.Time
	dry   bool
}

func (e *Engine) newGuard(dry bool) *stepGuard {
	return &stepGuard{max: e.maxSteps, start: time.Now(), dry: dry}
}

func (g *stepGuard) step() error {
	g.count++
	if g.count <= g.max {
		return nil
	}
	if !g.dry {
		if now := time.Now(); now.Sub(g.start) >= time.Second {
			g.start, g.count = now, 1
			return nil
		}
	}
	return ErrLoop
}

// Run executes ch's dialplan from ch.Location() (exten "s" priority 1 when
// the location has no extension) until the call ends, as Asterisk's
// __ast_pbx_run. Run owns ch: when it returns, the h extension of the
// channel's context has run (if there is one) and ch has been hung up.
//
// It returns nil when the call ended normally: an application returned
// app.ErrHangup (Hangup, Busy...), the caller hung up, or the channel ran
// off the end of its extension (autofallthrough; the cause is then 17 if
// ${DIALSTATUS} is BUSY, 34 if CONGESTION or CHANUNAVAIL). It returns an
// error wrapping ErrNoApplication, ErrInvalidExtension, ErrLoop or an
// application's own error when the dialplan failed; the call is hung up
// all the same.
func (e *Engine) Run(ctx context.Context, ch *channel.Channel) error {
	st := e.child(nil, ch)
	rctx := context.WithValue(ctx, runKey{}, st)
	loc := ch.Location()
	if loc.Exten == "" {
		loc.Exten, loc.Priority = "s", 1
	}
	if loc.Priority < 1 {
		loc.Priority = 1
	}
	ch.SetLocation(loc)
	err := e.loop(rctx, st, nil, false)
	if isHangup(ctx, ch, err) {
		err = nil
	}
	if errors.Is(err, ErrInvalidExtension) && ch.HangupCause() == 0 {
		ch.SetHangupCause(channel.CauseUnallocated)
	}
	e.runH(ctx, st)
	ch.Hangup(0)
	return err
}

// isHangup tells the normal end of a call from a failure.
func isHangup(ctx context.Context, ch *channel.Channel, err error) bool {
	return err != nil && (errors.Is(err, app.ErrHangup) || errors.Is(err, channel.ErrHungUp) ||
		ch.HungUp() || ctx.Err() != nil)
}

// loop runs priorities until the extension ends. nested loops (Macro,
// Sub, h) return nil there; the top-level one handles invalid extensions
// and autofallthrough as __ast_pbx_run does.
func (e *Engine) loop(ctx context.Context, st *runState, within func(channel.Location) bool, nested bool) error {
	ch := st.ch
	for {
		if err := st.guard.step(); err != nil {
			return loopError(err, ch.Location())
		}
		if !st.inH && (ch.HungUp() || ctx.Err() != nil) {
			return app.ErrHangup
		}
		dp := e.dp.Load()
		loc := ch.Location()
		cid := ch.CallerID().Num
		_, p := dp.lookup(e.now(), loc.Context, loc.Exten, loc.Priority, "", cid, matchExact)
		if p == nil {
			if nested || st.inH {
				return nil
			}
			again, err := e.noPriority(st, dp, loc, cid)
			if again {
				continue
			}
			return err
		}
		if err := e.exec(ctx, st, p, loc); err != nil {
			pend, ok := err.(*app.Pending)
			if !ok {
				return err
			}
			if err := pend.Wait(); err != nil { // a bridged call parks here (see app.Pending)
				return err
			}
		}
		if st.subDone {
			return nil
		}
		if !st.inH && (ch.HungUp() || ctx.Err() != nil) {
			return app.ErrHangup
		}
		if st.jumped {
			st.jumped = false
			if within != nil && !within(ch.Location()) {
				return nil
			}
			continue
		}
		loc = ch.Location()
		loc.Priority++
		ch.SetLocation(loc)
	}
}

//go:noinline
func loopError(err error, loc channel.Location) error {
	return fmt.Errorf("%w, at %s@%s:%d", err, loc.Exten, loc.Context, loc.Priority)
}

// noPriority handles a location without a priority at the top level: the
// 'i' extension for an invalid one (again: run on), else the end of the
// extension (autofallthrough) or ErrInvalidExtension.
//
//go:noinline
func (e *Engine) noPriority(st *runState, dp *Dialplan, loc channel.Location, cid string) (again bool, err error) {
	ch := st.ch
	if _, p1 := dp.lookup(e.now(), loc.Context, loc.Exten, 1, "", cid, matchExact); p1 == nil {
		if _, pi := dp.lookup(e.now(), loc.Context, "i", 1, "", cid, matchExact); pi != nil {
			ch.Log().Info("channel sent to invalid extension", "context", loc.Context, "exten", loc.Exten, "priority", loc.Priority)
			st.printf("  -- invalid extension '%s': going to 'i'\n", loc.Exten)
			ch.SetVar("INVALID_EXTEN", loc.Exten)
			ch.SetLocation(channel.Location{Context: loc.Context, Exten: "i", Priority: 1})
			return true, nil
		}
		return false, fmt.Errorf("%w: %s,%s,%d and no 'i' extension", ErrInvalidExtension, loc.Context, loc.Exten, loc.Priority)
	}
	e.autoFallthrough(st, loc)
	return false, nil
}

// autoFallthrough ends a channel that ran out of priorities (autofallthrough)
// with the cause its last Dial suggests.
func (e *Engine) autoFallthrough(st *runState, loc channel.Location) {
	ch := st.ch
	status, ok := ch.Var("DIALSTATUS")
	if !ok {
		status = "UNKNOWN"
	}
	switch strings.ToUpper(status) {
	case "BUSY":
		ch.SetHangupCause(channel.CauseUserBusy)
	case "CONGESTION", "CHANUNAVAIL":
		ch.SetHangupCause(channel.CauseNormalCircuitCongestion)
	}
	ch.Log().Debug("auto fallthrough", "context", loc.Context, "exten", loc.Exten, "priority", loc.Priority, "dialstatus", status)
	st.printf("  == auto fallthrough: no priority %d, the call would be hung up (DIALSTATUS '%s', cause %d)\n",
		loc.Priority, dialStatus(ch), causeOf(ch))
}

func dialStatus(ch *channel.Channel) string {
	v, _ := ch.Var("DIALSTATUS")
	return v
}

func causeOf(ch *channel.Channel) int {
	if c := ch.HangupCause(); c != 0 {
		return int(c)
	}
	return int(channel.CauseNormalClearing)
}

// exec runs one priority: substitute, look up, execute.
func (e *Engine) exec(ctx context.Context, st *runState, p *Priority, loc channel.Location) error {
	ch := st.ch
	data := p.Data
	if strings.Contains(data, "${") || strings.Contains(data, "$[") {
		data = e.Expand(ctx, ch, data)
	}
	entry, ok := e.apps[p.App] // spelled as Asterisk does, mostly
	if !ok {
		entry, ok = e.apps[strings.ToLower(p.App)]
	}
	name := p.App
	if ok {
		name = entry.name
	}
	if log := ch.Log(); log.Enabled(ctx, slog.LevelDebug) {
		logExec(ctx, log, p, loc, name, data)
	}
	if !ok {
		return noApplication(st, p, loc, name, data)
	}
	ch.SetApp(name, data)
	if st.dry != nil {
		return e.dryExec(ctx, st, entry, p, loc, data)
	}
	if err := entry.app.Exec(ctx, ch, data); err != nil {
		return appError(err, loc, name)
	}
	return nil
}

// The cold paths of exec and loop are functions of their own, kept out of
// line: exec and loop stay on the stack of every call for its whole
// length, and their frames (with fmt's and slog's arguments inlined) kept
// a held call's goroutine above the quarter of its stack under which the
// GC halves it (with app.Pending: 4 KB a held call; bench
// held-calls-direct).

//go:noinline
func logExec(ctx context.Context, log *slog.Logger, p *Priority, loc channel.Location, name, data string) {
	log.DebugContext(ctx, "executing", "at", fmt.Sprintf("%s@%s:%d", loc.Exten, loc.Context, loc.Priority),
		"app", name, "data", data, "source", p.Pos.String())
}

//go:noinline
func noApplication(st *runState, p *Priority, loc channel.Location, name, data string) error {
	st.line(loc, p, name, data, "no such application: the call would be hung up here")
	return fmt.Errorf("%w '%s' for extension (%s, %s, %d) [%s]", ErrNoApplication, p.App, loc.Context, loc.Exten, loc.Priority, p.Pos)
}

//go:noinline
func appError(err error, loc channel.Location, name string) error {
	if _, ok := err.(*app.Pending); ok || errors.Is(err, app.ErrHangup) {
		return err
	}
	return fmt.Errorf("dialplan: %s@%s:%d %s: %w", loc.Exten, loc.Context, loc.Priority, name, err)
}

// runH runs the h extension of the channel's context, if any, after the
// call ended. Its applications get a context that is already done, as
// Asterisk soft-hangs the channel up first: anything that would wait
// returns at once.
func (e *Engine) runH(ctx context.Context, st *runState) {
	ch := st.ch
	loc := ch.Location()
	dp := e.dp.Load()
	if _, p := dp.lookup(e.now(), loc.Context, "h", 1, "", ch.CallerID().Num, matchExact); p == nil {
		return
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cancel()
	hst := e.child(st, ch)
	hst.inH = true
	hst.guard = e.newGuard(st.dry != nil) // h runs even after the loop guard stopped the call
	hctx = context.WithValue(hctx, runKey{}, hst)
	ch.SetLocation(channel.Location{Context: loc.Context, Exten: "h", Priority: 1})
	st.printf("  -- h extension:\n")
	if err := e.loop(hctx, hst, nil, true); err != nil && !errors.Is(err, app.ErrHangup) {
		ch.Log().Debug("h extension ended with an error", "error", err)
	}
}

// Expand substitutes ${...} and $[...] in s for ch (nil: globals only).
func (e *Engine) Expand(ctx context.Context, ch *channel.Channel, s string) string {
	x := &expander{ctx: ctx, ch: ch, globals: e.globals, funcs: e.funcs, now: e.now, log: e.log}
	if ch != nil {
		x.log = ch.Log()
	}
	return x.expand(s, 0)
}

// SetVar assigns as Set(name=value) does: a name ending in ')' writes a
// function, others set a channel variable (a global when ch is nil).
func (e *Engine) SetVar(ctx context.Context, ch *channel.Channel, name, value string) error {
	if strings.HasSuffix(name, ")") {
		fname, args, _ := function.Split(name)
		f, ok := e.funcs[strings.ToUpper(fname)]
		if !ok {
			return fmt.Errorf("%w: %s", function.ErrNoFunction, fname)
		}
		w, ok := f.(function.Writer)
		if !ok {
			return fmt.Errorf("%w: %s", function.ErrNotWritable, fname)
		}
		return w.Write(ctx, ch, args, value)
	}
	if ch == nil {
		e.globals.SetGlobal(name, value)
		return nil
	}
	ch.SetVar(name, value)
	return nil
}

// frame is a Gosub return address with the variables it shadows.
type frame struct {
	ret     channel.Location
	saved   []savedVar
	argc    int
	special *runState // set by Sub: Return ends that run
}

type savedVar struct {
	name, value string
}

// setVar sets a frame-local variable, remembering the value it hides.
func (f *frame) setVar(ch *channel.Channel, name, value string) {
	seen := false
	for _, s := range f.saved {
		seen = seen || s.name == name
	}
	if !seen {
		old, _ := ch.Var(name)
		f.saved = append(f.saved, savedVar{name, old})
	}
	ch.SetVar(name, value)
}

func (f *frame) restore(ch *channel.Channel) {
	for _, s := range f.saved {
		ch.SetVar(s.name, s.value)
	}
}

// resolve turns a target into a location relative to ch's.
func (e *Engine) resolve(ch *channel.Channel, t app.Target) (channel.Location, error) {
	loc := ch.Location()
	to := channel.Location{Context: t.Context, Exten: t.Exten}
	if to.Context == "" {
		to.Context = loc.Context
	}
	if to.Exten == "" {
		to.Exten = loc.Exten
	}
	pri := t.Priority
	mode := 0
	switch {
	case strings.HasPrefix(pri, "+"):
		mode, pri = 1, pri[1:]
	case strings.HasPrefix(pri, "-"):
		mode, pri = -1, pri[1:]
	}
	n, err := strconv.Atoi(strings.TrimSpace(pri))
	if err != nil {
		_, p := e.dp.Load().lookup(e.now(), to.Context, to.Exten, 0, pri, ch.CallerID().Num, matchExact)
		if p == nil || pri == "" {
			return loc, fmt.Errorf("priority '%s' must be a number > 0, or valid label (in %s,%s)", t.Priority, to.Context, to.Exten)
		}
		n, mode = p.Number, 0
	}
	if mode != 0 {
		n = loc.Priority + mode*n
	}
	to.Priority = n
	return to, nil
}

// Goto implements app.Dialplan.
func (e *Engine) Goto(ctx context.Context, ch *channel.Channel, t app.Target) error {
	to, err := e.resolve(ch, t)
	if err != nil {
		return err
	}
	ch.SetLocation(to)
	if st := runFrom(ctx); st != nil && st.ch == ch {
		st.jumped = true
	}
	ch.Log().Debug("goto", "context", to.Context, "exten", to.Exten, "priority", to.Priority)
	return nil
}

// MatchMore implements app.Dialplan.
func (e *Engine) MatchMore(ch *channel.Channel, context, exten string) bool {
	return e.dp.Load().MatchMore(context, exten, ch.CallerID().Num)
}

// Exists implements app.Dialplan.
func (e *Engine) Exists(ch *channel.Channel, context, exten string, priority int) bool {
	_, p := e.dp.Load().lookup(e.now(), context, exten, priority, "", ch.CallerID().Num, matchExact)
	return p != nil
}

// push goes to t with a new frame returning to ret.
func (e *Engine) push(st *runState, t app.Target, args []string, ret channel.Location, special *runState) error {
	ch := st.ch
	orig := ch.Location()
	to, err := e.resolve(ch, t)
	if err != nil {
		return fmt.Errorf("Gosub address is invalid: %w", err)
	}
	if !e.Exists(ch, to.Context, to.Exten, to.Priority) {
		return fmt.Errorf("Gosub attempted to reach non-existent destination '%s,%s,%d' from '%s,%s,%d'",
			to.Context, to.Exten, to.Priority, orig.Context, orig.Exten, orig.Priority)
	}
	f := &frame{ret: ret, special: special, argc: len(args)}
	maxArgc := len(args)
	if n := len(*st.stack); n > 0 && (*st.stack)[n-1].argc > maxArgc {
		maxArgc = (*st.stack)[n-1].argc
	}
	f.argc = maxArgc
	for i := 0; i < maxArgc; i++ {
		v := ""
		if i < len(args) {
			v = args[i]
		}
		f.setVar(ch, "ARG"+strconv.Itoa(i+1), v)
	}
	f.setVar(ch, "ARGC", strconv.Itoa(len(args)))
	*st.stack = append(*st.stack, f)
	ch.SetLocation(to)
	return nil
}

// Gosub implements app.Dialplan.
func (e *Engine) Gosub(ctx context.Context, ch *channel.Channel, t app.Target, args []string) error {
	st := runFrom(ctx)
	if st == nil || st.ch != ch {
		return ErrNotRunning
	}
	loc := ch.Location()
	ret := channel.Location{Context: loc.Context, Exten: loc.Exten, Priority: loc.Priority + 1}
	if err := e.push(st, t, args, ret, nil); err != nil {
		return err
	}
	st.jumped = true
	return nil
}

// Return implements app.Dialplan.
func (e *Engine) Return(ctx context.Context, ch *channel.Channel, value string) error {
	st := runFrom(ctx)
	if st == nil || st.ch != ch {
		return ErrNotRunning
	}
	n := len(*st.stack)
	if n == 0 {
		return errors.New("Return without Gosub: stack is empty")
	}
	f := (*st.stack)[n-1]
	*st.stack = (*st.stack)[:n-1]
	f.restore(ch)
	ch.SetLocation(f.ret)
	ch.SetVar("GOSUB_RETVAL", value)
	if f.special != nil {
		f.special.subDone = true
	} else {
		st.jumped = true
	}
	return nil
}

// Sub implements app.Dialplan.
func (e *Engine) Sub(ctx context.Context, ch *channel.Channel, t app.Target, args []string) (string, error) {
	st := e.child(runFrom(ctx), ch)
	orig := ch.Location()
	if err := e.push(st, t, args, orig, st); err != nil {
		return "", err
	}
	depth := len(*st.stack)
	err := e.loop(context.WithValue(ctx, runKey{}, st), st, nil, true)
	if len(*st.stack) >= depth { // ended without Return: drop its frame
		f := (*st.stack)[depth-1]
		*st.stack = (*st.stack)[:depth-1]
		f.restore(ch)
	}
	ch.SetLocation(orig)
	ret, _ := ch.Var("GOSUB_RETVAL")
	return ret, err
}

// Nested implements app.Dialplan. While a Gosub made inside the nested
// run has not returned, the channel may be anywhere without leaving it (as
// app_macro's gosub_level).
func (e *Engine) Nested(ctx context.Context, ch *channel.Channel, within func(channel.Location) bool) error {
	st := e.child(runFrom(ctx), ch)
	if within != nil {
		base := len(*st.stack)
		outer := within
		within = func(l channel.Location) bool { return len(*st.stack) > base || outer(l) }
	}
	return e.loop(context.WithValue(ctx, runKey{}, st), st, within, true)
}

var (
	_ app.Dialplan     = (*Engine)(nil)
	_ app.Vars         = (*Engine)(nil)
	_ function.Globals = (*Globals)(nil)
)
