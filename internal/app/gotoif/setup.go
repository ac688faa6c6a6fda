package gotoif

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("GotoIf", setup) }

func setup(env *app.Env) (app.App, error) {
	return &GotoIf{dp: env.Dialplan, log: env.Log}, nil
}
