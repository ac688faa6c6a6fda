package gotoapp

import "github.com/gopbx/gopbx/internal/app"

func init() { app.Register("Goto", setup) }

func setup(env *app.Env) (app.App, error) {
	return &Goto{dp: env.Dialplan}, nil
}
