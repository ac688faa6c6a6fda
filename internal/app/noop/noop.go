package noop

import (
	"context"
	"log/slog"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// NoOp does nothing; its arguments are substituted, so it is the usual way
// to show a value in the debug log ("executing ... NoOp(...)").
type NoOp struct {
	log *slog.Logger
}

// Exec implements app.App.
func (*NoOp) Exec(context.Context, *channel.Channel, string) error { return nil }

// DryRun implements app.DryRunner.
func (*NoOp) DryRun(context.Context, *channel.Channel, string) (string, error) { return "", nil }

var (
	_ app.App       = (*NoOp)(nil)
	_ app.DryRunner = (*NoOp)(nil)
)
