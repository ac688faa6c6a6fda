package voice

import "github.com/gopbx/gopbx/internal/app"

func init() {
	for name, mk := range map[string]func(*app.Env) app.App{
		"Playback":    func(e *app.Env) app.App { return &Playback{env: e} },
		"Background":  func(e *app.Env) app.App { return &Background{env: e} },
		"WaitExten":   func(e *app.Env) app.App { return &WaitExten{env: e} },
		"Read":        func(e *app.Env) app.App { return &Read{env: e} },
		"SayDigits":   func(e *app.Env) app.App { return &Say{env: e, mode: sayDigits} },
		"SayNumber":   func(e *app.Env) app.App { return &Say{env: e, mode: sayNumber} },
		"SayAlpha":    func(e *app.Env) app.App { return &Say{env: e, mode: sayAlpha} },
		"Echo":        func(e *app.Env) app.App { return &Echo{env: e} },
		"Record":      func(e *app.Env) app.App { return &Record{env: e} },
		"MusicOnHold": func(e *app.Env) app.App { return &MusicOnHold{env: e} },
		"Milliwatt":   func(e *app.Env) app.App { return &Milliwatt{env: e} },
	} {
		mk := mk
		app.Register(name, func(env *app.Env) (app.App, error) {
			if env.Media == nil {
				env.Media = app.NewMediaEnv(nil, nil, nil)
			}
			return mk(env), nil
		})
	}
}
