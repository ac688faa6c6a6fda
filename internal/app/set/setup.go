package set

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Set", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Set{vars: env.Vars, log: env.Log}, nil
}
