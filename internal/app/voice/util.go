package voice

import (
	"context"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"

	"github.com/gopbx/gopbx/internal/app/wait"
)

func arg(a []string, i int) string {
	if i < len(a) {
		return strings.TrimSpace(a[i])
	}
	return ""
}

func seconds(s string) (time.Duration, bool) {
	d, ok := wait.ParseTimelen(strings.TrimSpace(s), time.Second)
	return d, ok && d > 0
}

// ready applies the answer options voice applications share when the call
// is not up yet: skip (return without doing anything) when opts contains
// skipOpt, else answer unless opts contains noAnswerOpt. It reports
// whether to go on; err is ErrHangup when answering failed.
func ready(ctx context.Context, ch *channel.Channel, opts, skipOpt, noAnswerOpt string) (bool, error) {
	if ch.State() == channel.StateUp {
		return true, nil
	}
	if strings.Contains(opts, skipOpt) {
		return false, nil
	}
	if !strings.Contains(opts, noAnswerOpt) {
		if err := app.EnsureUp(ctx, ch); err != nil {
			return false, app.ErrHangup
		}
	}
	return true, nil
}
