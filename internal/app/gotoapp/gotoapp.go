// Package gotoapp is the Goto application ("goto" is a Go keyword).
package gotoapp

import (
	"context"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Goto jumps to [[context,]exten,]priority; the priority may be a label or
// +n/-n. A target that cannot be resolved (an unknown label) ends the call,
// as in Asterisk.
type Goto struct {
	dp app.Dialplan
}

// Exec implements app.App.
func (g *Goto) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	t, err := app.ParseTarget(args)
	if err != nil {
		return app.Error("Goto", err)
	}
	if err := g.dp.Goto(ctx, ch, t); err != nil {
		return app.Error("Goto", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (g *Goto) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", g.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*Goto)(nil)
	_ app.DryRunner = (*Goto)(nil)
)
