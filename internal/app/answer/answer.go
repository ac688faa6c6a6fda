package answer

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

// Answer answers the channel: a 200 OK for a SIP call still ringing. With
// a delay it then waits that many milliseconds before going on, as
// Asterisk's Answer(delay) does.
type Answer struct {
	log *slog.Logger
}

// Exec implements app.App.
func (a *Answer) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	delay := a.delay(ch, args)
	if err := ch.Answer(ctx); err != nil {
		if ch.HungUp() {
			return app.ErrHangup
		}
		return app.Error("Answer", err)
	}
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return app.ErrHangup
	case <-t.C:
		return nil
	}
}

// delay parses Answer([delay[,options]]); it only applies to a channel not
// yet up.
func (a *Answer) delay(ch *channel.Channel, args string) time.Duration {
	p := app.SplitArgs(args)
	if len(p) == 0 || strings.TrimSpace(p[0]) == "" || ch.State() == channel.StateUp {
		return 0
	}
	ms, err := strconv.Atoi(strings.TrimSpace(p[0]))
	if err != nil || ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// DryRun implements app.DryRunner.
func (a *Answer) DryRun(_ context.Context, ch *channel.Channel, args string) (string, error) {
	if d := a.delay(ch, args); d > 0 {
		return fmt.Sprintf("would answer, then wait %s", d), nil
	}
	return "would answer", nil
}

var (
	_ app.App       = (*Answer)(nil)
	_ app.DryRunner = (*Answer)(nil)
)
