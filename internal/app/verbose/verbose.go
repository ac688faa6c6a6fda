package verbose

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Verbose logs a message at information level with its verbosity level
// as a field: Verbose([level,]message). The message keeps its commas.
type Verbose struct {
	log *slog.Logger
}

func parse(args string) (int, string, bool) {
	a := app.SplitArgsN(args, 2)
	switch len(a) {
	case 0:
		return 0, "", true
	case 1:
		return 0, a[0], true
	}
	level, err := strconv.Atoi(strings.TrimSpace(a[0]))
	if err != nil || level < 0 {
		return 0, a[1], false
	}
	return level, a[1], true
}

// Exec implements app.App.
func (v *Verbose) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	level, msg, ok := parse(args)
	if !ok {
		v.log.Warn("Verbose: level is not a number, using 0", "chan", ch.Name(), "args", args)
	}
	v.log.InfoContext(ctx, "verbose", "chan", ch.Name(), "level", level, "message", msg)
	return nil
}

// DryRun implements app.DryRunner.
func (v *Verbose) DryRun(_ context.Context, _ *channel.Channel, args string) (string, error) {
	_, msg, _ := parse(args)
	return "logs \"" + msg + "\"", nil
}

var (
	_ app.App       = (*Verbose)(nil)
	_ app.DryRunner = (*Verbose)(nil)
)
