package voice

import (
	"context"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Echo sends the caller's audio and DTMF back until # or hang-up, as
// app_echo. It does not answer: the dialplan does that first.
type Echo struct{ env *app.Env }

// Exec implements app.App.
func (e *Echo) Exec(ctx context.Context, ch *channel.Channel, _ string) error {
	med := channel.MediaOf(ch)
	if med == nil {
		e.env.Log.WarnContext(ctx, "Echo: no media on this call", "chan", ch.Name())
		return nil
	}
	e.env.Media.StopGenerator(ch)
	for {
		select {
		case <-ctx.Done():
			return app.ErrHangup
		case f := <-med.Audio():
			if err := med.Write(f); err != nil {
				return app.ErrHangup
			}
		case d := <-med.Digits():
			if d == '#' {
				return nil
			}
			_ = med.SendDTMF(d, 100*time.Millisecond)
		}
	}
}
