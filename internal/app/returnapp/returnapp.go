// Package returnapp is the Return application ("return" is a Go keyword).
package returnapp

import (
	"context"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Return ends a subroutine called with Gosub: it sets ${GOSUB_RETVAL} to
// its argument and goes back after the Gosub. Without a Gosub it ends the
// call, as in Asterisk.
type Return struct {
	dp app.Dialplan
}

// Exec implements app.App.
func (r *Return) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if err := r.dp.Return(ctx, ch, args); err != nil {
		return app.Error("Return", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (r *Return) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", r.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*Return)(nil)
	_ app.DryRunner = (*Return)(nil)
)
