package mset

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("MSet", setup) }

func setup(env *app.Env) (app.App, error) {
	return &MSet{vars: env.Vars, log: env.Log}, nil
}
