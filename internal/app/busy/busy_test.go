package busy_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/busy"
	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestBusy(t *testing.T) {
	apptest.HangupApp(t, "Busy", channel.CauseUserBusy, channel.IndBusy)
}
