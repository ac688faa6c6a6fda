// Package function is the registry of dialplan functions, the
// ${NAME(args)} of extensions.conf (CALLERID, CUT, LEN...), and holds the
// standard ones. It works like internal/app: a Factory registered at init
// under a case-insensitive name, instantiated once per engine with an Env.
//
// A function reads with Read; one that can be assigned with
// Set(NAME(args)=value) also implements Writer. Arguments arrive
// substituted, as one string, and are split by the function itself (most
// with app.SplitArgs rules, reimplemented here as SplitArgs).
//
// ch is nil when a function is evaluated outside a call, for instance in an
// extension name or [globals] value while loading; functions that need a
// channel return ErrNoChannel then.
package function

import (
	"context"
	"errors"
	"github.com/gopbx/gopbx/internal/registry"
	"log/slog"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
)

// Function is a dialplan function that can be read: ${NAME(args)}.
type Function interface {
	Read(ctx context.Context, ch *channel.Channel, args string) (string, error)
}

// Writer is implemented by functions that can be assigned:
// Set(NAME(args)=value).
type Writer interface {
	Write(ctx context.Context, ch *channel.Channel, args, value string) error
}

// ReadFunc adapts a function to Function.
type ReadFunc func(ctx context.Context, ch *channel.Channel, args string) (string, error)

// Read calls f.
func (f ReadFunc) Read(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return f(ctx, ch, args)
}

// Globals is the engine's global variable table ([globals], GLOBAL()).
type Globals interface {
	Global(name string) (string, bool)
	// SetGlobal sets a global; an empty value deletes it.
	SetGlobal(name, value string)
}

// Expander substitutes ${...} and $[...] for a channel, as the engine does.
type Expander interface {
	Expand(ctx context.Context, ch *channel.Channel, s string) string
}

// Env is what a function's factory receives from its engine.
type Env struct {
	Globals Globals
	Vars    Expander
	Log     *slog.Logger
	Now     func() time.Time
}

// Factory builds a function for one engine.
type Factory func(env *Env) (Function, error)

// Errors functions return.
var (
	ErrNoChannel   = errors.New("function: needs a channel")
	ErrUsage       = errors.New("function: bad arguments")
	ErrNotWritable = errors.New("function: cannot be written")
	ErrNoFunction  = errors.New("function: not registered")
)

// factories is the process-wide table init functions fill.
var factories = registry.New[Factory]("function", "(), \t:")

// Register makes a function available under name (any case). It is meant
// for init functions and panics on a bad or duplicate name or nil factory.
func Register(name string, f Factory) { factories.Register(name, f, f == nil) }

// Lookup returns the factory registered under name (any case) and the name
// as it was registered.
func Lookup(name string) (f Factory, canonical string, ok bool) { return factories.Lookup(name) }

// Names returns the registered names, sorted.
func Names() []string { return factories.Names() }

// Split splits "NAME(args)" into its name and arguments, as Asterisk's
// func_args: the arguments run from the first '(' to the last ')'. ok is
// false without '('.
func Split(call string) (name, args string, ok bool) {
	name, args, ok = strings.Cut(call, "(")
	if !ok {
		return call, "", false
	}
	if i := strings.LastIndexByte(args, ')'); i >= 0 {
		args = args[:i]
	}
	return name, args, true
}

// simple registers a stateless read-only function.
func simple(name string, read func(ctx context.Context, env *Env, ch *channel.Channel, args string) (string, error)) {
	Register(name, func(env *Env) (Function, error) {
		return ReadFunc(func(ctx context.Context, ch *channel.Channel, args string) (string, error) {
			return read(ctx, env, ch, args)
		}), nil
	})
}

// rw is a Function with a Writer, built from two closures.
type rw struct {
	read  func(ctx context.Context, ch *channel.Channel, args string) (string, error)
	write func(ctx context.Context, ch *channel.Channel, args, value string) error
}

func (f rw) Read(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return f.read(ctx, ch, args)
}

func (f rw) Write(ctx context.Context, ch *channel.Channel, args, value string) error {
	return f.write(ctx, ch, args, value)
}

var (
	_ Function = ReadFunc(nil)
	_ Writer   = rw{}
)
