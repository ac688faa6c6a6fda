package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
)

// Signal is the shared body of Busy() and Congestion(): indicate, then end
// the call with Cause. On a channel that is up the caller hears the tone
// for the optional timeout in seconds (until it hangs up without one). A
// channel not yet answered gets the final response (486, 503) at once:
// there is no audio path to play a tone on, so waiting would only delay it.
type Signal struct {
	Name  string // "busy", "congestion": for the dry-run note
	Ind   channel.Indication
	Cause channel.Cause
	Log   *slog.Logger
	// Media plays the zone's tone of the same name on an answered call.
	Media *MediaEnv
}

// Exec implements App.
func (a *Signal) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	timeout, hasTimeout := parseSignalTimeout(args)
	up := ch.State() == channel.StateUp
	if err := ch.Indicate(ctx, a.Ind); err != nil && !ch.HungUp() {
		a.Log.Debug("indication failed", "chan", ch.Name(), "error", err)
	}
	if !up {
		ch.SetHangupCause(a.Cause)
		return ErrHangup
	}
	if a.Media != nil {
		if src, err := a.Media.ToneSource(ch, a.Name); err == nil && a.Media.StartGenerator(ch, src) == nil {
			defer a.Media.StopGenerator(ch)
		}
	}
	if !hasTimeout {
		<-ctx.Done()
		return ErrHangup
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return ErrHangup
}

// parseSignalTimeout reads the optional timeout in seconds (fractions
// allowed); a missing or negative one means "until the caller hangs up".
func parseSignalTimeout(args string) (time.Duration, bool) {
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

// DryRun implements DryRunner.
func (a *Signal) DryRun(_ context.Context, ch *channel.Channel, _ string) (string, error) {
	if ch.State() != channel.StateUp {
		ch.SetHangupCause(a.Cause)
	}
	return fmt.Sprintf("would signal %s and hang up (cause %d)", a.Name, int(a.Cause)), ErrHangup
}

var (
	_ App       = (*Signal)(nil)
	_ DryRunner = (*Signal)(nil)
)
