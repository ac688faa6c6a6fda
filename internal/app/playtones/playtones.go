package playtones

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Playtones plays a tone of the channel's indications zone ("dial",
// "busy", "ring"...) or a tone list ("!350+440/100,!0/100,350+440") in the
// background while the dialplan goes on, until StopPlaytones, another
// playback or hang-up.
type Playtones struct {
	log *slog.Logger
	env *app.Env
}

// Exec implements app.App.
func (p *Playtones) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	src, err := p.env.Media.ToneSource(ch, args)
	if err != nil {
		p.log.WarnContext(ctx, "Playtones: unknown tone", "chan", ch.Name(), "args", args, "error", err)
		return nil
	}
	if err := p.env.Media.StartGenerator(ch, src); err != nil {
		p.log.InfoContext(ctx, "Playtones: no media on this call", "chan", ch.Name())
	}
	return nil
}

// DryRun implements app.DryRunner.
func (*Playtones) DryRun(_ context.Context, _ *channel.Channel, args string) (string, error) {
	return "would play tone " + args, nil
}

var (
	_ app.App       = (*Playtones)(nil)
	_ app.DryRunner = (*Playtones)(nil)
)
