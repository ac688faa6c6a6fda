package stopplaytones

import (
	"context"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// StopPlaytones stops the tone Playtones started on the channel.
type StopPlaytones struct {
	env *app.Env
}

// Exec implements app.App.
func (p *StopPlaytones) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	p.env.Media.StopGenerator(ch)
	return nil
}

// DryRun implements app.DryRunner.
func (*StopPlaytones) DryRun(context.Context, *channel.Channel, string) (string, error) {
	return "would stop tones", nil
}

var (
	_ app.App       = (*StopPlaytones)(nil)
	_ app.DryRunner = (*StopPlaytones)(nil)
)
