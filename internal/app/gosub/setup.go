package gosub

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Gosub", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Gosub{dp: env.Dialplan}, nil
}
