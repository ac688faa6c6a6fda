package answer

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Answer", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Answer{log: env.Log}, nil
}
