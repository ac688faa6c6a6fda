package progress

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Progress", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Progress{log: env.Log}, nil
}
