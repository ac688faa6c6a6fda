package gosubif

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("GosubIf", setup) }

func setup(env *app.Env) (app.App, error) {
	return &GosubIf{dp: env.Dialplan, log: env.Log}, nil
}
