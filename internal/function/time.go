package function

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan/timing"
)

func init() {
	simple("STRFTIME", strftimeFunc)
	simple("RAND", randFunc)
	simple("IFTIME", iftime)
}

// strftimeFunc is STRFTIME([epoch][,timezone][,format]): epoch defaults
// to now, the format to %c.
func strftimeFunc(_ context.Context, env *Env, _ *channel.Channel, args string) (string, error) {
	a := app.SplitArgsN(args, 3)
	get := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	t := env.Now()
	if e := strings.TrimSpace(get(0)); e != "" {
		secs, err := strconv.ParseFloat(e, 64)
		if err != nil {
			return "", fmt.Errorf("%w: STRFTIME: bad epoch %q", ErrUsage, e)
		}
		whole := int64(secs)
		t = time.Unix(whole, int64((secs-float64(whole))*1e9))
	}
	t = t.In(time.Local)
	if tz := strings.TrimSpace(get(1)); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return "", fmt.Errorf("%w: STRFTIME: unknown time zone %q", ErrUsage, tz)
		}
		t = t.In(loc)
	}
	format := get(2)
	if format == "" {
		format = "%c"
	}
	return Strftime(format, t), nil
}

// randFunc is RAND([min][,max]): an integer in [min, max], 0 and
// 2147483647 by default.
func randFunc(_ context.Context, _ *Env, _ *channel.Channel, args string) (string, error) {
	a := app.SplitArgs(args)
	lo, hi := int64(0), int64(2147483647)
	if len(a) > 0 {
		if n, ok := scanInt(a[0]); ok {
			lo = int64(n)
		}
	}
	if len(a) > 1 {
		if n, ok := scanInt(a[1]); ok {
			hi = int64(n)
		}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return strconv.FormatInt(lo+rand.Int64N(hi-lo+1), 10), nil
}

// iftime is IFTIME(timespec?[true][:false]).
func iftime(_ context.Context, env *Env, _ *channel.Channel, args string) (string, error) {
	args = strings.TrimSpace(args)
	if len(args) >= 2 && args[0] == '"' && args[len(args)-1] == '"' {
		args = args[1 : len(args)-1]
	}
	spec, branches, found := strings.Cut(args, "?")
	if spec == "" || !found {
		return "", fmt.Errorf("%w: syntax IFTIME(<timespec>?[<true>][:<false>])", ErrUsage)
	}
	iftrue, iffalse, _ := strings.Cut(branches, ":")
	ts, err := timing.Parse(spec)
	if err != nil && env.Log != nil {
		env.Log.Warn("IFTIME: time spec partly ignored", "spec", spec, "error", err)
	}
	if ts.Match(env.Now()) {
		return unquote(iftrue), nil
	}
	return unquote(iffalse), nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
