package dialplan_test

import (
	"context"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/busy"
	_ "github.com/gopbx/gopbx/internal/app/congestion"
	_ "github.com/gopbx/gopbx/internal/app/gosub"
	_ "github.com/gopbx/gopbx/internal/app/gosubif"
	_ "github.com/gopbx/gopbx/internal/app/gotoapp"
	_ "github.com/gopbx/gopbx/internal/app/gotoif"
	_ "github.com/gopbx/gopbx/internal/app/gotoiftime"
	_ "github.com/gopbx/gopbx/internal/app/hangup"
	_ "github.com/gopbx/gopbx/internal/app/logapp"
	_ "github.com/gopbx/gopbx/internal/app/macro"
	_ "github.com/gopbx/gopbx/internal/app/mset"
	_ "github.com/gopbx/gopbx/internal/app/noop"
	_ "github.com/gopbx/gopbx/internal/app/playtones"
	_ "github.com/gopbx/gopbx/internal/app/progress"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
	_ "github.com/gopbx/gopbx/internal/app/ringing"
	_ "github.com/gopbx/gopbx/internal/app/set"
	_ "github.com/gopbx/gopbx/internal/app/stopplaytones"
	_ "github.com/gopbx/gopbx/internal/app/verbose"
	_ "github.com/gopbx/gopbx/internal/app/wait"
)

// These tests do not import the real Dial (internal/app/dial): a fake one
// records its arguments in ${DIALED} (appended, '|'-separated) and sets
// ${DIALSTATUS} from ${FAKE_DIALSTATUS}. It has no DryRun, so dry runs
// print "would dial".
func init() {
	app.Register("Dial", func(*app.Env) (app.App, error) {
		return app.Func(func(_ context.Context, ch *channel.Channel, args string) error {
			prev, _ := ch.Var("DIALED")
			if prev != "" {
				prev += "|"
			}
			ch.SetVar("DIALED", prev+args)
			status, _ := ch.Var("FAKE_DIALSTATUS")
			ch.SetVar("DIALSTATUS", strings.ToUpper(status))
			return nil
		}), nil
	})
}
