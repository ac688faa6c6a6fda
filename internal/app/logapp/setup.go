package logapp

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Log", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Log{log: env.Log}, nil
}
