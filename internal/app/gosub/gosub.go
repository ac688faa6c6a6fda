package gosub

import (
	"context"
	"errors"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Gosub calls a subroutine: it jumps to [[context,]exten,]priority with
// the arguments in ${ARG1}..${ARGn} (and their count in ${ARGC}); Return
// comes back to the next priority.
type Gosub struct {
	dp app.Dialplan
}

var errUsage = errors.New("requires an argument: Gosub([[context,]exten,]priority[(arg1[,...][,argN])])")

// Exec implements app.App. A destination that does not exist ends the
// call, as in Asterisk.
func (g *Gosub) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		return app.Error("Gosub", errUsage)
	}
	t, a, err := app.ParseSubTarget(args)
	if err != nil {
		return app.Error("Gosub", err)
	}
	if err := g.dp.Gosub(ctx, ch, t, a); err != nil {
		return app.Error("Gosub", err)
	}
	return nil
}

// DryRun implements app.DryRunner.
func (g *Gosub) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", g.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*Gosub)(nil)
	_ app.DryRunner = (*Gosub)(nil)
)
