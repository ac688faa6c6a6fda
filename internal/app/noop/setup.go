package noop

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("NoOp", setup) }

func setup(env *app.Env) (app.App, error) {
	return &NoOp{log: env.Log}, nil
}
