package wait

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Wait pauses the dialplan: Wait(seconds), fractions allowed. It returns
// early, ending the call, if the caller hangs up.
type Wait struct {
	log *slog.Logger
}

// Exec implements app.App.
func (w *Wait) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	d, ok := ParseTimelen(args, time.Second)
	if !ok || d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return app.ErrHangup
	case <-ch.Context().Done():
		return app.ErrHangup
	case <-t.C:
		return nil
	}
}

// DryRun implements app.DryRunner. In the h extension the call is over
// and Wait, like every application that waits, returns at once and ends it.
func (w *Wait) DryRun(ctx context.Context, _ *channel.Channel, args string) (string, error) {
	d, ok := ParseTimelen(args, time.Second)
	if !ok || d <= 0 {
		return "", nil
	}
	if ctx.Err() != nil {
		return "the call is over: returns at once", app.ErrHangup
	}
	return fmt.Sprintf("would wait %s", d), nil
}

// ParseTimelen reads a duration as Asterisk's ast_app_parse_timelen: a
// number (fractions allowed) optionally followed by a unit, ms, s, m or h;
// without a unit it counts in unit.
func ParseTimelen(s string, unit time.Duration) (time.Duration, bool) {
	var amount float64
	var u string
	n, _ := fmt.Sscanf(s, "%g%s", &amount, &u)
	switch n {
	case 0:
		return 0, false
	case 2:
		switch u {
		case "h", "H":
			unit = time.Hour
		case "s", "S":
			unit = time.Second
		case "m", "M":
			unit = time.Minute
		case "ms", "mS", "Ms", "MS":
			unit = time.Millisecond
		default:
			return 0, false
		}
	}
	return time.Duration(amount * float64(unit)), true
}

var (
	_ app.App       = (*Wait)(nil)
	_ app.DryRunner = (*Wait)(nil)
)
