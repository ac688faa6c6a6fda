package macro

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Macro", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Macro{dp: env.Dialplan, log: env.Log}, nil
}
