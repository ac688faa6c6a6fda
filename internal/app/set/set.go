package set

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Set assigns a variable or a function: Set(name=value). The whole
// argument is one assignment (commas belong to the value), as in Asterisk
// since 1.6. A name prefixed with _ is inherited by the channels this one
// dials, with __ by all their descendants too; NAME(args) writes a
// function such as CALLERID(num) or GLOBAL(x). An empty value deletes the
// variable.
type Set struct {
	vars app.Vars
	log  *slog.Logger
}

// Exec implements app.App. Mistakes are logged and the dialplan goes on,
// as Asterisk's Set does.
func (s *Set) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		s.log.Warn("Set requires one variable name/value pair", "chan", ch.Name())
		return nil
	}
	name, value, ok := strings.Cut(args, "=")
	if !ok {
		s.log.Warn("Set requires an '=' to be a valid assignment", "chan", ch.Name(), "args", args)
		return nil
	}
	if strings.Contains(name, " ") {
		s.log.Warn("please avoid unnecessary spaces on variables as it may lead to unexpected results",
			"chan", ch.Name(), "name", name, "value", value)
	}
	if err := s.vars.SetVar(ctx, ch, name, value); err != nil {
		s.log.Warn("Set failed", "chan", ch.Name(), "name", name, "error", err)
	}
	return nil
}

// DryRun implements app.DryRunner: the assignment is made.
func (s *Set) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", s.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*Set)(nil)
	_ app.DryRunner = (*Set)(nil)
)
