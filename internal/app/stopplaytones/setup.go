package stopplaytones

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("StopPlaytones", setup) }

func setup(env *app.Env) (app.App, error) {
	return &StopPlaytones{log: env.Log}, nil
}
