package stopplaytones

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("StopPlaytones", setup) }

func setup(env *app.Env) (app.App, error) {
	if env.Media == nil {
		env.Media = app.NewMediaEnv(nil, nil, nil)
	}
	return &StopPlaytones{env: env}, nil
}
