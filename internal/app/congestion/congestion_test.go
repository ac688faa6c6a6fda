package congestion_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/congestion"
	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestCongestion(t *testing.T) {
	apptest.HangupApp(t, "Congestion", channel.CauseNormalCircuitCongestion, channel.IndCongestion)
}
