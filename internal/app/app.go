package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/gopbx/gopbx/internal/registry"
	"log/slog"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
)

// App is a dialplan application, what exten => 100,1,Name(args) runs.
//
// Exec receives its arguments with variables, functions and $[...]
// expressions already substituted, as one string: each application splits
// it itself (most with SplitArgs, a few such as Set and GotoIf take it
// whole, as in Asterisk). ctx is the call's context and ends when the
// channel hangs up.
//
// What Exec returns decides what the engine does next:
//
//   - nil: go on with the next priority, or with the location the
//     application moved the channel to through Env.Dialplan (Goto, Gosub,
//     Return...).
//   - ErrHangup (or an error wrapping it), or any error after the channel
//     hung up: the call is over; the engine runs the h extension of the
//     current context, if there is one, then hangs the channel up with the
//     cause recorded on it (normal clearing when none).
//   - any other error: the application failed, as a non-zero return does
//     in Asterisk. The engine stops the same way and Run returns the error.
//
// Applications never hang the channel up themselves: they record a cause
// (ch.SetHangupCause) and return ErrHangup. Whoever sends a final response
// or BYE is the engine, when it ends the call.
type App interface {
	Exec(ctx context.Context, ch *channel.Channel, args string) error
}

// Func adapts a function to App.
type Func func(ctx context.Context, ch *channel.Channel, args string) error

// Exec calls f.
func (f Func) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	return f(ctx, ch, args)
}

// DryRunner is implemented by applications that `gopbx dialplan test` can
// follow without a live call: those that only read and change variables or
// the dialplan location (Set, Goto, GotoIf, Gosub...), or whose effect can
// be described (Answer, Wait). DryRun does what Exec would, minus any
// signalling or waiting, and returns a note for the printout ("would
// answer"), or "" for none. Applications without it are printed with
// "would <name>" and skipped, as if they had returned nil.
type DryRunner interface {
	DryRun(ctx context.Context, ch *channel.Channel, args string) (note string, err error)
}

// ErrHangup is returned by an application to end the call: the engine runs
// the h extension and hangs up.
var ErrHangup = errors.New("app: hangup")

// Pending is returned by an application whose remaining work is only to
// wait (Dial, once the call is bridged). The engine calls Wait from its
// own loop and takes Wait's result as the application's.
//
// Why: a held call's goroutine parks for the whole call. Parked inside
// Dial it had the frames of the engine's exec, Dial.Exec and dial.Run on
// its stack, more than the 2 KB under which the GC shrinks an 8 KB stack
// to 4 KB; parked in the loop it is under (bench held-calls-direct:
// 4 KB less per held call). Only the engine calls applications' Exec, so
// only it has to know.
type Pending struct {
	Wait func() error
}

func (p *Pending) Error() string { return "app: pending" }

// Error wraps err with the application's name: "app/Gosub: ...".
func Error(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("app/%s: %w", name, err)
}

// Env is what an application's factory receives from the engine that will
// run it. Fields are never nil in an Env the engine builds.
type Env struct {
	// Channels creates and finds channels (Dial requests outbound legs).
	Channels *channel.Registry
	// Log is the engine's logger with the application's name attached.
	Log *slog.Logger
	// Dialplan moves channels around the dialplan.
	Dialplan Dialplan
	// Vars reads and assigns variables and functions.
	Vars Vars
	// Now is the engine's clock (GotoIfTime).
	Now func() time.Time
	// Media holds prompts, tones and music on hold for the voice
	// applications.
	Media *MediaEnv
}

// Dialplan is the engine as applications see it, for those that change
// where a channel is: Goto, Gosub and Return, Macro, and Dial's options
// that run a subroutine or a macro on the called channel.
//
// ctx must be the context Exec received: the engine keeps the state of the
// run (the Gosub stack, "the location changed") in it.
type Dialplan interface {
	// Goto moves ch to t, relative to where it is: empty Context and Exten
	// keep the current ones; Priority is a number, a label, or +n/-n. The
	// engine continues there when the application returns.
	Goto(ctx context.Context, ch *channel.Channel, t Target) error
	// Gosub pushes a return address (the next priority) with args as
	// ${ARG1}..${ARGn} and ${ARGC}, then goes to t, which must exist.
	Gosub(ctx context.Context, ch *channel.Channel, t Target, args []string) error
	// Return pops the last Gosub: it restores the caller's ARGn, sets
	// ${GOSUB_RETVAL} to value and goes back to the return address.
	Return(ctx context.Context, ch *channel.Channel, value string) error
	// Sub runs a subroutine on ch synchronously, as Asterisk's
	// ast_app_run_sub does for Dial's U() option: Gosub to t, run until the
	// matching Return (or the end of the extension), restore ch's location
	// and return ${GOSUB_RETVAL}. ch need not be running a dialplan.
	Sub(ctx context.Context, ch *channel.Channel, t Target, args []string) (string, error)
	// Nested runs ch from its current location in a loop of its own until
	// the current extension has no next priority, or a jump takes ch to a
	// location for which within returns false (nil within: never), as
	// app_macro's loop does. It returns nil then, with ch where it ended;
	// ErrHangup or the failing application's error otherwise.
	Nested(ctx context.Context, ch *channel.Channel, within func(channel.Location) bool) error
	// Exists reports whether context,exten,priority exists for ch's caller
	// ID (priority 1: whether the extension exists).
	Exists(ch *channel.Channel, context, exten string, priority int) bool
	// MatchMore reports whether exten could match an extension of context
	// with more digits (Background and WaitExten keep collecting then).
	MatchMore(ch *channel.Channel, context, exten string) bool
}

// Vars reads and writes dialplan variables.
type Vars interface {
	// Expand substitutes ${...} and $[...] in s for ch, as the engine does
	// with application arguments.
	Expand(ctx context.Context, ch *channel.Channel, s string) string
	// SetVar assigns like Set(name=value): NAME, _NAME and __NAME set
	// channel variables (inherited by one or all generations of dialled
	// channels), FUNC(args) writes a function such as CALLERID(num) or
	// GLOBAL(x). An empty value deletes a variable.
	SetVar(ctx context.Context, ch *channel.Channel, name, value string) error
}

// Factory builds an application for one engine. It runs when the engine is
// created, so it may validate its environment and keep what it needs.
type Factory func(env *Env) (App, error)

// factories is the process-wide table init functions fill.
var factories = registry.New[Factory]("app", "(), \t")

// Register makes an application available under name, case-insensitively
// as in Asterisk. It is meant for init functions and panics on an empty
// name, a nil factory or a name registered twice.
func Register(name string, f Factory) { factories.Register(name, f, f == nil) }

// Lookup returns the factory registered under name (any case) and the name
// as it was registered.
func Lookup(name string) (f Factory, canonical string, ok bool) { return factories.Lookup(name) }

// Names returns the registered names, sorted.
func Names() []string { return factories.Names() }
