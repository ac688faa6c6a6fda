package voice

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Playback plays files: Playback(file[&file2...][,options]) with options
// skip (do nothing when the call is not up) and noanswer. It sets
// PLAYBACKSTATUS to SUCCESS or FAILED; a missing file fails the playback,
// not the call, as in Asterisk.
type Playback struct{ env *app.Env }

// Exec implements app.App.
func (p *Playback) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	files := strings.Split(arg(a, 0), "&")
	opts := strings.ToLower(arg(a, 1))
	if ok, err := ready(ctx, ch, opts, "skip", "noanswer"); !ok {
		if err == nil {
			ch.SetVar("PLAYBACKSTATUS", "SUCCESS")
		}
		return err
	}
	_, err := p.env.Media.PlayFiles(ctx, ch, files, "")
	switch {
	case ctx.Err() != nil || ch.HungUp():
		return app.ErrHangup
	case err != nil:
		p.env.Log.WarnContext(ctx, "Playback failed", "chan", ch.Name(), "error", err)
		ch.SetVar("PLAYBACKSTATUS", "FAILED")
		return nil
	}
	ch.SetVar("PLAYBACKSTATUS", "SUCCESS")
	return nil
}

// Background plays files while listening for digits; a digit stops the
// playback and, with the digits that follow, selects the extension of the
// current (or given) context: Background(file[&file2][,options[,lang[,context]]]),
// options s (skip if not up), n (no answer).
type Background struct{ env *app.Env }

// Exec implements app.App.
func (b *Background) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	if ok, err := ready(ctx, ch, arg(a, 1), "s", "n"); !ok {
		return err
	}
	context_ := arg(a, 3)
	if context_ == "" {
		context_ = ch.Location().Context
	}
	d, err := b.env.Media.PlayFiles(ctx, ch, strings.Split(arg(a, 0), "&"), "any")
	if ctx.Err() != nil || ch.HungUp() {
		return app.ErrHangup
	}
	if err != nil {
		if !errors.Is(err, app.ErrNoMedia) {
			b.env.Log.WarnContext(ctx, "Background failed", "chan", ch.Name(), "error", err)
		}
		ch.SetVar("BACKGROUNDSTATUS", "FAILED")
		return nil
	}
	ch.SetVar("BACKGROUNDSTATUS", "SUCCESS")
	if d == 0 {
		return nil
	}
	return collect(ctx, b.env, ch, context_, string(d))
}

// WaitExten waits for the caller to dial an extension of the current
// context: WaitExten([seconds][,m[(class)]]). Without a digit it goes to
// the t extension, or ends the call when there is none.
type WaitExten struct{ env *app.Env }

// Exec implements app.App.
func (w *WaitExten) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	timeout := responseTimeout(ch)
	if s := arg(a, 0); s != "" {
		if d, ok := seconds(s); ok {
			timeout = d
		}
	}
	if o := arg(a, 1); strings.HasPrefix(o, "m") {
		class := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(o, "m"), "("), ")")
		if w.env.Media.MOH != nil {
			if src, err := w.env.Media.MOH.Open(class); err == nil {
				_ = w.env.Media.StartGenerator(ch, src)
				defer w.env.Media.StopGenerator(ch)
			}
		}
	}
	d, err := app.WaitDigit(ctx, ch, timeout)
	if err != nil || ch.HungUp() {
		return app.ErrHangup
	}
	context_ := ch.Location().Context
	if d == 0 {
		if w.env.Dialplan.Exists(ch, context_, "t", 1) {
			return w.env.Dialplan.Goto(ctx, ch, app.Target{Context: context_, Exten: "t", Priority: "1"})
		}
		return app.ErrHangup
	}
	w.env.Media.StopGenerator(ch)
	return collect(ctx, w.env, ch, context_, string(d))
}

// collect gathers more digits while they could still match an extension
// (TIMEOUT(digit), default 5 s, between digits), then goes to the
// extension, or to i with ${INVALID_EXTEN}, as Asterisk's pbx loop does.
func collect(ctx context.Context, env *app.Env, ch *channel.Channel, context_, exten string) error {
	for env.Dialplan.MatchMore(ch, context_, exten) {
		d, err := app.WaitDigit(ctx, ch, digitTimeout(ch))
		if err != nil {
			return app.ErrHangup
		}
		if d == 0 || d == '#' {
			break
		}
		exten += string(d)
	}
	if env.Dialplan.Exists(ch, context_, exten, 1) {
		return env.Dialplan.Goto(ctx, ch, app.Target{Context: context_, Exten: exten, Priority: "1"})
	}
	if env.Dialplan.Exists(ch, context_, "i", 1) {
		ch.SetVar("INVALID_EXTEN", exten)
		return env.Dialplan.Goto(ctx, ch, app.Target{Context: context_, Exten: "i", Priority: "1"})
	}
	env.Log.InfoContext(ctx, "invalid extension and no i extension: hanging up", "chan", ch.Name(), "exten", exten, "context", context_)
	return app.ErrHangup
}

func digitTimeout(ch *channel.Channel) time.Duration {
	if v, ok := ch.Var("TIMEOUT(digit)"); ok {
		if d, ok := seconds(v); ok {
			return d
		}
	}
	return 5 * time.Second
}

func responseTimeout(ch *channel.Channel) time.Duration {
	if v, ok := ch.Var("TIMEOUT(response)"); ok {
		if d, ok := seconds(v); ok {
			return d
		}
	}
	return 10 * time.Second
}
