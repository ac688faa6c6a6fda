package wait

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Wait", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Wait{log: env.Log}, nil
}
