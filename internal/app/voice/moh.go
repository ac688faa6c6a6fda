package voice

import (
	"context"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/tones"
)

// MusicOnHold plays a musiconhold.conf class: MusicOnHold([class[,duration]]).
// It answers first, as Asterisk's does, and plays until hang-up or
// duration seconds.
type MusicOnHold struct{ env *app.Env }

// Exec implements app.App.
func (m *MusicOnHold) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	if err := app.EnsureUp(ctx, ch); err != nil {
		return app.ErrHangup
	}
	if m.env.Media.MOH == nil {
		m.env.Log.WarnContext(ctx, "MusicOnHold: no music configured", "chan", ch.Name())
		return nil
	}
	class := arg(a, 0)
	if class == "" {
		class, _ = ch.Var("MOH_CLASS")
	}
	src, err := m.env.Media.MOH.Open(class)
	if err != nil {
		m.env.Log.WarnContext(ctx, "MusicOnHold", "chan", ch.Name(), "error", err)
		return nil
	}
	return playFor(ctx, m.env, ch, src, arg(a, 1))
}

// Milliwatt plays the 1004 Hz digital milliwatt: Milliwatt([o]); o gives
// the tone at 0 dBm0 through the tone generator instead of the µ-law
// sequence.
type Milliwatt struct{ env *app.Env }

// Exec implements app.App.
func (m *Milliwatt) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if err := app.EnsureUp(ctx, ch); err != nil {
		return app.ErrHangup
	}
	g := tones.Milliwatt()
	if arg(app.SplitArgs(args), 0) == "o" {
		g = tones.MilliwattTone()
	}
	return playFor(ctx, m.env, ch, genSource{g}, "")
}

type genSource struct{ g *tones.Generator }

func (s genSource) Read(dst []int16) ([]int16, error) { return s.g.Read(dst), nil }

// playFor streams an endless source for the given seconds ("" = until
// hang-up); digits do not stop it.
func playFor(ctx context.Context, env *app.Env, ch *channel.Channel, src app.Source, dur string) error {
	if d, ok := seconds(dur); ok {
		tctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		env.Media.Stream(tctx, ch, src, "")
	} else {
		env.Media.Stream(ctx, ch, src, "")
	}
	if ch.HungUp() || ctx.Err() != nil {
		return app.ErrHangup
	}
	return nil
}
