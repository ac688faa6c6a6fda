package congestion

import (
	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// New returns Congestion(): indicate congestion and end the call with
// cause 34, as Asterisk's Congestion() does (see app.Signal).
func New(env *app.Env) *app.Signal {
	return &app.Signal{Name: "congestion", Ind: channel.IndCongestion, Cause: channel.CauseNormalCircuitCongestion, Log: env.Log, Media: env.Media}
}
