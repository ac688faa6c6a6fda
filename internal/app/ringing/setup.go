package ringing

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Ringing", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Ringing{log: env.Log}, nil
}
