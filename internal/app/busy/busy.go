package busy

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Busy indicates busy and ends the call with cause 17, as
// Asterisk's Busy() does.
type Busy struct {
	log *slog.Logger
}

// Exec implements app.App. On a channel that is up the caller hears the
// tone for timeout seconds (until it hangs up without one). A channel not
// yet answered gets the 486 Busy Here at once: there is no audio path to play a
// tone on, so waiting would only delay the final response.
func (a *Busy) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	timeout, hasTimeout := parseTimeout(args)
	up := ch.State() == channel.StateUp
	if err := ch.Indicate(ctx, channel.IndBusy); err != nil && !ch.HungUp() {
		a.log.Debug("indication failed", "chan", ch.Name(), "error", err)
	}
	if !up {
		ch.SetHangupCause(channel.CauseUserBusy)
		return app.ErrHangup
	}
	if !hasTimeout {
		<-ctx.Done()
		return app.ErrHangup
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return app.ErrHangup
}

// parseTimeout reads the optional timeout in seconds (fractions allowed);
// a missing or negative one means "until the caller hangs up".
func parseTimeout(args string) (time.Duration, bool) {
	s := strings.TrimSpace(args)
	if s == "" {
		return 0, false
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs < 0 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// DryRun implements app.DryRunner.
func (*Busy) DryRun(_ context.Context, ch *channel.Channel, _ string) (string, error) {
	if ch.State() != channel.StateUp {
		ch.SetHangupCause(channel.CauseUserBusy)
	}
	return fmt.Sprintf("would signal busy and hang up (cause %d)", 17), app.ErrHangup
}

var (
	_ app.App       = (*Busy)(nil)
	_ app.DryRunner = (*Busy)(nil)
)
