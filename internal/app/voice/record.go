package voice

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/sound"
)

// Record records the caller to a file:
// Record(filename.format[,silence[,maxduration[,options]]]).
// %d in the name becomes a number that makes it new. It beeps first (not
// with q), stops on # (any digit with y; no digit with x), after silence
// seconds of quiet (trimmed off) or maxduration seconds. Options: a
// (append), k (keep the file when the caller hangs up; default is to
// delete it), n (do not answer), o (0 also ends), q (no beep), s (skip if
// not up). Sets RECORD_STATUS (DTMF, SILENCE, TIMEOUT, HANGUP, ERROR,
// SKIP) and RECORDED_FILE (without the format).
type Record struct{ env *app.Env }

// silenceLevel is the RMS below which a frame counts as silence (about
// Asterisk's default threshold of 256 on average energy).
const silenceLevel = 256

// Exec implements app.App.
func (r *Record) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgs(args)
	spec := arg(a, 0)
	ext := filepath.Ext(spec)
	if ext == "" || len(ext) < 2 {
		ch.SetVar("RECORD_STATUS", "ERROR")
		r.env.Log.WarnContext(ctx, "Record: the file name needs a format (name.wav)", "chan", ch.Name(), "arg", spec)
		return nil
	}
	silence, _ := seconds(arg(a, 1))
	maxDur, _ := seconds(arg(a, 2))
	opts := arg(a, 3)
	if ok, err := ready(ctx, ch, opts, "s", "n"); !ok {
		if err == nil {
			ch.SetVar("RECORD_STATUS", "SKIP")
		}
		return err
	}
	path := r.resolve(strings.TrimSuffix(spec, ext)) + ext
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		ch.SetVar("RECORD_STATUS", "ERROR")
		return nil
	}
	if !strings.Contains(opts, "q") {
		r.env.Media.PlayFiles(ctx, ch, []string{"beep"}, "")
	}
	med := channel.MediaOf(ch)
	if med == nil {
		ch.SetVar("RECORD_STATUS", "ERROR")
		return nil
	}
	app.FlushDigits(ch)
	w, err := sound.Create(path)
	if err != nil {
		r.env.Log.WarnContext(ctx, "Record: cannot create", "chan", ch.Name(), "error", err)
		ch.SetVar("RECORD_STATUS", "ERROR")
		return nil
	}
	ch.SetVar("RECORDED_FILE", strings.TrimSuffix(path, ext))
	status := r.loop(ctx, ch, med, w, silence, maxDur, opts)
	if status == "SILENCE" && silence > 0 {
		if d := w.Duration() - silence; d > 0 {
			w.Truncate(d)
		}
	}
	w.Close()
	ch.SetVar("RECORD_STATUS", status)
	if status == "HANGUP" {
		if !strings.Contains(opts, "k") {
			os.Remove(path)
		}
		return app.ErrHangup
	}
	return nil
}

func (r *Record) loop(ctx context.Context, ch *channel.Channel, med channel.Media, w *sound.Writer, silence, maxDur time.Duration, opts string) string {
	var deadline <-chan time.Time
	if maxDur > 0 {
		t := time.NewTimer(maxDur)
		defer t.Stop()
		deadline = t.C
	}
	var quiet time.Duration
	for {
		select {
		case <-ctx.Done():
			return "HANGUP"
		case <-deadline:
			return "TIMEOUT"
		case d := <-med.Digits():
			switch {
			case strings.Contains(opts, "x"):
			case d == '#', strings.Contains(opts, "y"), d == '0' && strings.Contains(opts, "o"):
				return "DTMF"
			}
		case f := <-med.Audio():
			if err := w.Write(f); err != nil {
				return "ERROR"
			}
			if silence > 0 {
				if rms(f) < silenceLevel {
					quiet += 20 * time.Millisecond
					if quiet >= silence {
						return "SILENCE"
					}
				} else {
					quiet = 0
				}
			}
		}
	}
}

// resolve makes a relative name absolute under RecordDir and fills %d.
func (r *Record) resolve(name string) string {
	if !filepath.IsAbs(name) && r.env.Media.RecordDir != "" {
		name = filepath.Join(r.env.Media.RecordDir, name)
	}
	if !strings.Contains(name, "%d") {
		return name
	}
	for i := 0; i < 100000; i++ {
		p := strings.Replace(name, "%d", strconv.Itoa(i), 1)
		if m, _ := filepath.Glob(p + ".*"); len(m) == 0 {
			return p
		}
	}
	return strings.Replace(name, "%d", fmt.Sprint(time.Now().UnixNano()), 1)
}

func rms(f []int16) float64 {
	var sum float64
	for _, s := range f {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(f)+1))
}
