package playtones

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Playtones", setup) }

func setup(env *app.Env) (app.App, error) {
	if env.Media == nil {
		env.Media = app.NewMediaEnv(nil, nil, nil)
	}
	return &Playtones{log: env.Log, env: env}, nil
}
