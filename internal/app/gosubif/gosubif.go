package gosubif

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/expr"
)

// GosubIf calls one of two subroutines depending on a condition, as GotoIf
// chooses its branch.
type GosubIf struct {
	dp  app.Dialplan
	log *slog.Logger
}

func (g *GosubIf) pick(args string) (bool, string, bool) {
	cond := app.Split(args, '?', 2, true)
	if len(cond) != 2 {
		return false, "", false
	}
	labels := app.Split(cond[1], ':', 2, true)
	var ifTrue, ifFalse string
	if len(labels) > 0 {
		ifTrue = labels[0]
	}
	if len(labels) > 1 {
		ifFalse = labels[1]
	}
	if expr.IsTrue(cond[0]) {
		return true, ifTrue, true
	}
	return false, ifFalse, true
}

// Exec implements app.App.
func (g *GosubIf) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	_, label, ok := g.pick(args)
	if !ok {
		g.log.Warn("GosubIf requires an argument: GosubIf(cond?label1(args):label2(args))", "chan", ch.Name())
		return nil
	}
	if label == "" {
		return nil
	}
	t, a, err := app.ParseSubTarget(label)
	if err != nil {
		return app.Error("GosubIf", err)
	}
	if err := g.dp.Gosub(ctx, ch, t, a); err != nil {
		return app.Error("GosubIf", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (g *GosubIf) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	cond, label, _ := g.pick(args)
	note := "condition false"
	if cond {
		note = "condition true"
	}
	if label == "" {
		note += ", no call"
	}
	return note, g.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*GosubIf)(nil)
	_ app.DryRunner = (*GosubIf)(nil)
)
