package returnapp

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Return", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Return{dp: env.Dialplan}, nil
}
