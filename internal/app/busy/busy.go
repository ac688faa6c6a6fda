package busy

import (
	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// New returns Busy(): indicate busy and end the call with cause 17, as
// Asterisk's Busy() does (see app.Signal).
func New(env *app.Env) *app.Signal {
	return &app.Signal{Name: "busy", Ind: channel.IndBusy, Cause: channel.CauseUserBusy, Log: env.Log, Media: env.Media}
}
