package dialplan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// ErrNoMatch is returned by Test when no extension matches.
var ErrNoMatch = errors.New("dialplan: no extension matches")

// dryRun is the printing side of Test.
type dryRun struct {
	w   io.Writer
	err error // first write error
}

func (st *runState) printf(format string, args ...any) {
	if st.dry == nil || st.dry.err != nil {
		return
	}
	_, st.dry.err = fmt.Fprintf(st.dry.w, format, args...)
}

// line prints one executed priority.
func (st *runState) line(loc channel.Location, p *Priority, app, data, note string) {
	if st.dry == nil {
		return
	}
	s := fmt.Sprintf("  [%s@%s:%d] %s(%s)", loc.Exten, loc.Context, loc.Priority, app, data)
	if note != "" {
		s += " — " + note
	}
	st.printf("%-60s [%s:%d]\n", s, filepath.Base(p.Pos.File), p.Pos.Line)
}

// dryDriver is the driver of Test's pretend channel: it signals nothing.
type dryDriver struct{}

func (dryDriver) Answer(context.Context, *channel.Channel) error                       { return nil }
func (dryDriver) Indicate(context.Context, *channel.Channel, channel.Indication) error { return nil }
func (dryDriver) Hangup(*channel.Channel, channel.Cause)                               {}

// Test is an offline dry run of a call to exten in context from callerID,
// for `gopbx dialplan test CONTEXT EXTEN [callerid]`. It prints which
// extension matches and every priority that would run, in order, with its
// arguments substituted. Applications that only touch variables and the
// dialplan location (Set, Goto, GotoIf, GotoIfTime, Gosub, Return, Macro,
// NoOp...) really run, on a pretend channel; those that need a live call
// are printed, not run: "Dial(SIP/91123@22TRUNK,40,m(default)) — would
// dial", and the dry run goes on as if they had returned with
// ${DIALSTATUS} empty. The h extension is followed too.
//
// It returns ErrNoMatch when nothing matches, and the error Engine.Run
// would return when the dialplan fails (unknown application, loop).
func Test(w io.Writer, dp *Dialplan, context, exten, callerID string) error {
	discard := slog.New(slog.DiscardHandler)
	e, err := NewEngine(dp, WithLogger(discard))
	if err != nil {
		return err
	}
	return e.test(w, context, exten, callerID)
}

// Test is the package-level Test with the engine's dialplan, clock, loop
// guard and current globals. It runs on a private copy of the engine, so a
// dry run never changes the globals live calls see.
func (e *Engine) Test(w io.Writer, context, exten, callerID string) error {
	cp, err := NewEngine(e.dp.Load(), WithLogger(slog.New(slog.DiscardHandler)), WithClock(e.now), WithMaxSteps(e.maxSteps))
	if err != nil {
		return err
	}
	cp.globals.Clear()
	for _, kv := range e.globals.All() {
		cp.globals.SetGlobal(kv[0], kv[1])
	}
	return cp.test(w, context, exten, callerID)
}

func (e *Engine) test(w io.Writer, context, exten, callerID string) error {
	dp := e.dp.Load()
	dry := &dryRun{w: w}
	st := &runState{stack: new([]*frame), guard: e.newGuard(true), dry: dry}
	head := fmt.Sprintf("Dialplan test: '%s' in context '%s'", exten, context)
	if callerID != "" {
		head += fmt.Sprintf(" from caller ID '%s'", callerID)
	}
	st.printf("%s\n", head)
	if dp.Context(context) == nil {
		st.printf("There is no context '%s'\n", context)
		return fmt.Errorf("%w: there is no context '%s'", ErrNoMatch, context)
	}
	ext, ok := dp.Match(context, exten, callerID)
	if !ok {
		if dp.MatchMore(context, exten, callerID) {
			st.printf("No extension matches '%s' yet; more digits could match (a SIP caller gets 484 Address Incomplete)\n", exten)
		} else {
			st.printf("No extension matches '%s' (a SIP caller gets 404 Not Found)\n", exten)
		}
		if dry.err != nil {
			return dry.err
		}
		return fmt.Errorf("%w '%s' in context '%s'", ErrNoMatch, exten, context)
	}
	cidNote := ""
	if ext.HasCID {
		cidNote = fmt.Sprintf(" (CID match '%s')", ext.CID)
	}
	where := ""
	if ext.Context != context {
		where = fmt.Sprintf(" (included in '%s')", context)
	}
	first := ext.Priority(1)
	st.printf("Matched '%s'%s in context '%s'%s [%s:%d]\n", ext.Name, cidNote, ext.Context, where,
		filepath.Base(first.Pos.File), first.Pos.Line)

	reg := channel.NewRegistry(slog.New(slog.DiscardHandler))
	ch := reg.New("Test", "dryrun", channel.Inbound, dryDriver{})
	ch.SetState(channel.StateRing)
	ch.SetCallerID(channel.CallerID{Num: callerID})
	ch.SetLocation(channel.Location{Context: context, Exten: exten, Priority: 1})
	st.ch = ch
	ctx := withRun(ch.Context(), st)
	err := e.loop(ctx, st, nil, false)
	switch {
	case err == nil:
	case errors.Is(err, app.ErrHangup):
		st.printf("  == the call would be hung up (cause %d)\n", causeOf(ch))
		err = nil
	case errors.Is(err, ErrNoApplication):
	default:
		st.printf("  == the dialplan would fail here: %v\n", err)
	}
	e.runH(ch.Context(), st)
	ch.Hangup(0)
	if dry.err != nil {
		return dry.err
	}
	return err
}

func withRun(ctx context.Context, st *runState) context.Context {
	return context.WithValue(ctx, runKey{}, st)
}

// dryExec runs or describes one application in a dry run.
func (e *Engine) dryExec(ctx context.Context, st *runState, entry appEntry, p *Priority, loc channel.Location, data string) error {
	dr, ok := entry.app.(app.DryRunner)
	if !ok {
		st.line(loc, p, entry.name, data, "would "+strings.ToLower(entry.name))
		return nil
	}
	note, err := dr.DryRun(ctx, st.ch, data)
	st.line(loc, p, entry.name, data, note)
	if err != nil && !errors.Is(err, app.ErrHangup) {
		return fmt.Errorf("dialplan: %s@%s:%d %s: %w", loc.Exten, loc.Context, loc.Priority, entry.name, err)
	}
	return err
}
