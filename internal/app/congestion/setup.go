package congestion

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Congestion", setup) }

func setup(env *app.Env) (app.App, error) {
	return New(env), nil
}
