package progress

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Progress indicates progress to the caller: a SIP call not yet answered
// gets a 183 Session Progress.
type Progress struct {
	log *slog.Logger
}

// Exec implements app.App. A failed indication is logged, not fatal, as
// in Asterisk.
func (a *Progress) Exec(ctx context.Context, ch *channel.Channel, _ string) error {
	if err := ch.Indicate(ctx, channel.IndProgress); err != nil {
		if ch.HungUp() {
			return app.ErrHangup
		}
		a.log.Debug("indication failed", "chan", ch.Name(), "error", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (*Progress) DryRun(context.Context, *channel.Channel, string) (string, error) {
	return "would send 183 Session Progress", nil
}

var (
	_ app.App       = (*Progress)(nil)
	_ app.DryRunner = (*Progress)(nil)
)
