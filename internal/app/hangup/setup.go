package hangup

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Hangup", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Hangup{log: env.Log}, nil
}
