package voice

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Read collects digits into a variable:
// Read(var[,file[&file2]][,maxdigits[,options[,attempts[,timeout]]]]).
// The prompt is interrupted by the first digit; # ends the input (and is
// not stored); maxdigits 0 means up to 255. Options: s (return if not up),
// n (read without answering), i (file is a tone name from indications).
// READSTATUS is OK, ERROR, HANGUP, INTERRUPTED, SKIPPED or TIMEOUT.
type Read struct{ env *app.Env }

// Exec implements app.App.
func (r *Read) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	name := arg(a, 0)
	if name == "" {
		ch.SetVar("READSTATUS", "ERROR")
		return nil
	}
	max, _ := strconv.Atoi(arg(a, 2))
	if max <= 0 || max > 255 {
		max = 255
	}
	opts := arg(a, 3)
	attempts, _ := strconv.Atoi(arg(a, 4))
	if attempts <= 0 {
		attempts = 1
	}
	timeout := responseTimeout(ch)
	if d, ok := seconds(arg(a, 5)); ok {
		timeout = d
	}
	if ok, err := ready(ctx, ch, opts, "s", "n"); !ok {
		if err == nil {
			ch.SetVar("READSTATUS", "SKIPPED")
			ch.SetVar(name, "")
		}
		return err
	}
	m := r.env.Media
	var got string
	status := "TIMEOUT"
	for try := 0; try < attempts && got == ""; try++ {
		var first byte
		var err error
		if f := arg(a, 1); f != "" {
			if strings.Contains(opts, "i") {
				src, terr := m.ToneSource(ch, f)
				if terr == nil {
					m.StartGenerator(ch, src)
				}
			} else {
				first, err = m.PlayFiles(ctx, ch, strings.Split(f, "&"), "any")
			}
		}
		if ctx.Err() != nil || ch.HungUp() {
			ch.SetVar("READSTATUS", "HANGUP")
			return app.ErrHangup
		}
		if err != nil {
			r.env.Log.WarnContext(ctx, "Read: prompt failed", "chan", ch.Name(), "error", err)
		}
		digits, st := gather(ctx, ch, first, max, timeout)
		m.StopGenerator(ch)
		if st == "HANGUP" {
			ch.SetVar("READSTATUS", "HANGUP")
			return app.ErrHangup
		}
		got, status = digits, st
	}
	ch.SetVar(name, got)
	ch.SetVar("READSTATUS", status)
	return nil
}

// gather reads up to max digits: the first waits timeout, each next one
// the same; # ends. A digit already pressed during the prompt is first.
func gather(ctx context.Context, ch *channel.Channel, first byte, max int, timeout time.Duration) (string, string) {
	var b strings.Builder
	if first == '#' {
		return "", "OK"
	}
	if first != 0 {
		b.WriteByte(first)
	}
	for b.Len() < max {
		d, err := app.WaitDigit(ctx, ch, timeout)
		if err != nil || ch.HungUp() {
			return b.String(), "HANGUP"
		}
		if d == 0 {
			if b.Len() > 0 {
				return b.String(), "OK"
			}
			return "", "TIMEOUT"
		}
		if d == '#' {
			return b.String(), "OK"
		}
		b.WriteByte(d)
	}
	return b.String(), "OK"
}
