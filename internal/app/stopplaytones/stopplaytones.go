package stopplaytones

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// StopPlaytones is a placeholder until the media engine can generate tones: it
// logs that tones are not supported yet and lets the dialplan go on, so
// dialplans using it load and run.
type StopPlaytones struct {
	log *slog.Logger
}

// Exec implements app.App.
func (p *StopPlaytones) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	p.log.InfoContext(ctx, "StopPlaytones: tones are not supported yet, ignoring", "chan", ch.Name(), "args", args)
	return nil
}

// DryRun implements app.DryRunner.
func (*StopPlaytones) DryRun(context.Context, *channel.Channel, string) (string, error) {
	return "tones not supported yet, ignored", nil
}

var (
	_ app.App       = (*StopPlaytones)(nil)
	_ app.DryRunner = (*StopPlaytones)(nil)
)
