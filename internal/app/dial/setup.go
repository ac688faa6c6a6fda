package dial

import (
	"context"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

func init() { app.Register("Dial", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Dial{dialer: env.Channels, media: env.Media}, nil
}

// Dial is Dial(Tech/res[&Tech/res2...][,timeout[,options[,URL]]]).
type Dial struct {
	dialer Dialer
	media  *app.MediaEnv
}

// Exec implements app.App.
func (d *Dial) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	spec, err := Parse(app.SplitArgs(args))
	if err != nil {
		return app.Error("Dial", err)
	}
	if spec.Options.Unsupported != "" {
		ch.Log().Debug("dial: options not supported yet, ignored", "options", spec.Options.Unsupported)
	}
	spec.Media = d.media
	return Run(ctx, d.dialer, ch, spec)
}

// DryRun implements app.DryRunner for `gopbx dialplan test`.
func (d *Dial) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	spec, err := Parse(app.SplitArgs(args))
	if err != nil {
		return "", app.Error("Dial", err)
	}
	note := "would dial"
	for i, t := range spec.Targets {
		if i > 0 {
			note += " &"
		}
		note += " " + t.Tech + "/" + t.Resource
	}
	if spec.Timeout > 0 {
		note += " for " + spec.Timeout.String()
	}
	return note, nil
}

var (
	_ app.App       = (*Dial)(nil)
	_ app.DryRunner = (*Dial)(nil)
)
