package verbose

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Verbose", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Verbose{log: env.Log}, nil
}
