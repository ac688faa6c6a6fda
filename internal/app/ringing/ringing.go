package ringing

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Ringing indicates ringing to the caller: a SIP call not yet answered
// gets a 180 Ringing.
type Ringing struct {
	log *slog.Logger
}

// Exec implements app.App. A failed indication is logged, not fatal, as
// in Asterisk.
func (a *Ringing) Exec(ctx context.Context, ch *channel.Channel, _ string) error {
	if err := ch.Indicate(ctx, channel.IndRinging); err != nil {
		if ch.HungUp() {
			return app.ErrHangup
		}
		a.log.Debug("indication failed", "chan", ch.Name(), "error", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (*Ringing) DryRun(context.Context, *channel.Channel, string) (string, error) {
	return "would send 180 Ringing", nil
}

var (
	_ app.App       = (*Ringing)(nil)
	_ app.DryRunner = (*Ringing)(nil)
)
