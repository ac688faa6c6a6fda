package busy

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Busy", setup) }

func setup(env *app.Env) (app.App, error) {
	return New(env), nil
}
