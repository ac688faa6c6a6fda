package gotoiftime

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("GotoIfTime", setup) }

func setup(env *app.Env) (app.App, error) {
	return &GotoIfTime{dp: env.Dialplan, log: env.Log, now: env.Now}, nil
}
