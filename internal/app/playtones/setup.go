package playtones

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Playtones", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Playtones{log: env.Log}, nil
}
