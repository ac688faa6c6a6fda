package gotoif

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/expr"
)

// GotoIf jumps to one of two locations depending on a condition:
// GotoIf(condition?[labeliftrue][:labeliffalse]). The condition is true
// unless it is empty or a number equal to 0, usually the result of a
// $[...] expression. An empty branch means "go on".
type GotoIf struct {
	dp  app.Dialplan
	log *slog.Logger
}

// branch picks the label args selects, "" for none.
func branch(args string) (cond bool, label string) {
	c, rest, _ := strings.Cut(args, "?")
	ifTrue, ifFalse, _ := strings.Cut(rest, ":")
	if expr.IsTrue(c) {
		return true, ifTrue
	}
	return false, ifFalse
}

// Exec implements app.App.
func (g *GotoIf) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		g.log.Warn("ignoring GotoIf, since there is no condition to check", "chan", ch.Name())
		return nil
	}
	_, label := branch(args)
	if label == "" {
		return nil
	}
	t, err := app.ParseTarget(label)
	if err != nil {
		return app.Error("GotoIf", err)
	}
	if err := g.dp.Goto(ctx, ch, t); err != nil {
		return app.Error("GotoIf", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (g *GotoIf) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	cond, label := branch(args)
	note := "condition false"
	if cond {
		note = "condition true"
	}
	if label == "" {
		note += ", no jump"
	}
	return note, g.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*GotoIf)(nil)
	_ app.DryRunner = (*GotoIf)(nil)
)
