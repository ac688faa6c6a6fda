package gotoiftime

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/timing"
)

// GotoIfTime jumps depending on the time of day:
// GotoIfTime(times,weekdays,mdays,months[,timezone]?[labeliftrue][:labeliffalse]).
type GotoIfTime struct {
	dp  app.Dialplan
	log *slog.Logger
	now func() time.Time
}

func (g *GotoIfTime) branch(ch *channel.Channel, args string) (bool, string) {
	spec, rest, _ := strings.Cut(args, "?")
	ifTrue, ifFalse, _ := strings.Cut(rest, ":")
	if strings.TrimSpace(spec) == "" {
		return false, ifFalse
	}
	ts, err := timing.Parse(spec)
	if err != nil {
		g.log.Warn("GotoIfTime: time spec partly ignored", "chan", ch.Name(), "spec", spec, "error", err)
	}
	if ts.Match(g.now()) {
		return true, ifTrue
	}
	return false, ifFalse
}

// Exec implements app.App.
func (g *GotoIfTime) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		return app.Error("GotoIfTime", errUsage)
	}
	_, label := g.branch(ch, args)
	if label == "" {
		return nil
	}
	t, err := app.ParseTarget(label)
	if err != nil {
		return app.Error("GotoIfTime", err)
	}
	if err := g.dp.Goto(ctx, ch, t); err != nil {
		return app.Error("GotoIfTime", err)
	}
	return nil
}

type usageError struct{}

func (usageError) Error() string {
	return "requires an argument: <time range>,<days of week>,<days of month>,<months>[,<timezone>]?[labeliftrue][:labeliffalse]"
}

var errUsage error = usageError{}

// DryRun implements app.DryRunner.
func (g *GotoIfTime) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	in, label := g.branch(ch, args)
	note := "outside the time spec now"
	if in {
		note = "inside the time spec now"
	}
	if label == "" {
		note += ", no jump"
	}
	return note, g.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*GotoIfTime)(nil)
	_ app.DryRunner = (*GotoIfTime)(nil)
)
