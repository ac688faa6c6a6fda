package mset

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// MSet sets several variables at once: MSet(a=1,b=2). Unlike Set, the
// arguments are split on commas with the usual quoting rules, so a value
// holding a comma must be quoted.
type MSet struct {
	vars app.Vars
	log  *slog.Logger
}

// Exec implements app.App.
func (m *MSet) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		m.log.Warn("MSet requires at least one variable name/value pair", "chan", ch.Name())
		return nil
	}
	for _, pair := range app.SplitArgsN(args, 99) {
		nv := app.Split(pair, '=', 2, false)
		if len(nv) != 2 {
			m.log.Warn("MSet: ignoring entry with no '='", "chan", ch.Name(), "entry", pair)
			continue
		}
		if strings.Contains(nv[0], " ") {
			m.log.Warn("please avoid unnecessary spaces on variables as it may lead to unexpected results",
				"chan", ch.Name(), "name", nv[0])
		}
		if err := m.vars.SetVar(ctx, ch, nv[0], nv[1]); err != nil {
			m.log.Warn("MSet failed", "chan", ch.Name(), "name", nv[0], "error", err)
		}
	}
	return nil
}

// DryRun implements app.DryRunner.
func (m *MSet) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", m.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*MSet)(nil)
	_ app.DryRunner = (*MSet)(nil)
)
