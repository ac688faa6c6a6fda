// Package logapp is the Log application (the name log would shadow the
// standard library's).
package logapp

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Log writes a message to the log at a level: Log(level,message), level
// being ERROR, WARNING, NOTICE, DEBUG, VERBOSE or DTMF as in Asterisk.
type Log struct {
	log *slog.Logger
}

var levels = map[string]slog.Level{
	"ERROR": slog.LevelError, "WARNING": slog.LevelWarn, "NOTICE": slog.LevelInfo,
	"VERBOSE": slog.LevelInfo, "DEBUG": slog.LevelDebug, "DTMF": slog.LevelDebug,
}

// Exec implements app.App.
func (l *Log) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	a := app.SplitArgsN(args, 2)
	if len(a) < 2 || a[1] == "" {
		l.log.Warn("Log requires a level and a message: Log(level,message)", "chan", ch.Name())
		return nil
	}
	lvl, ok := levels[strings.ToUpper(strings.TrimSpace(a[0]))]
	if !ok {
		l.log.Warn("unknown log level", "chan", ch.Name(), "level", a[0])
		return nil
	}
	loc := ch.Location()
	l.log.Log(ctx, lvl, "dialplan log", "chan", ch.Name(), "message", a[1],
		"exten", loc.Exten, "context", loc.Context, "priority", loc.Priority)
	return nil
}

// DryRun implements app.DryRunner.
func (l *Log) DryRun(_ context.Context, _ *channel.Channel, args string) (string, error) {
	a := app.SplitArgsN(args, 2)
	if len(a) < 2 {
		return "", nil
	}
	return "logs \"" + a[1] + "\" at " + strings.ToUpper(strings.TrimSpace(a[0])), nil
}

var (
	_ app.App       = (*Log)(nil)
	_ app.DryRunner = (*Log)(nil)
)
