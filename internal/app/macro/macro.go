package macro

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// maxDepth is app_macro's MAX_DEPTH default.
const maxDepth = 7

// Macro runs the context macro-name from its s extension, priority 1,
// with ${ARG1}.. set to the arguments and ${MACRO_EXTEN},
// ${MACRO_CONTEXT} and ${MACRO_PRIORITY} telling where it was called from.
// When the macro's extension ends the dialplan continues after the Macro;
// a Goto out of the macro context continues there instead.
//
// Asterisk deprecated Macro in favour of Gosub and removed it in version
// 21; gopbx keeps it for the many dialplans that still use it.
type Macro struct {
	dp  app.Dialplan
	log *slog.Logger
}

var errUsage = errors.New("requires arguments: Macro(name[,arg1[,arg2...]])")

// Exec implements app.App.
func (m *Macro) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	if args == "" {
		return app.Error("Macro", errUsage)
	}
	// app_macro splits on plain commas: quotes are not special.
	parts := strings.Split(args, ",")
	name, margs := parts[0], parts[1:]
	full := "macro-" + name
	if !m.dp.Exists(ch, full, "s", 1) {
		m.log.Warn("no such context for macro", "context", full, "macro", name, "chan", ch.Name())
		return nil
	}
	depth := 0
	if s, ok := ch.Var("MACRO_DEPTH"); ok {
		depth, _ = strconv.Atoi(strings.TrimSpace(s))
	}
	if depth >= maxDepth {
		m.log.Error("Macro(): possible infinite loop detected, returning early", "chan", ch.Name(), "depth", depth)
		return nil
	}
	orig := ch.Location()
	saved := map[string]string{}
	save := func(name, value string) {
		if _, done := saved[name]; !done {
			saved[name], _ = ch.Var(name)
		}
		ch.SetVar(name, value)
	}
	save("MACRO_EXTEN", orig.Exten)
	save("MACRO_CONTEXT", orig.Context)
	save("MACRO_PRIORITY", strconv.Itoa(orig.Priority))
	save("MACRO_OFFSET", "")
	ch.SetVar("MACRO_DEPTH", strconv.Itoa(depth+1))
	for i, a := range margs {
		save("ARG"+strconv.Itoa(i+1), a)
	}
	ch.SetLocation(channel.Location{Context: full, Exten: "s", Priority: 1})

	err := m.dp.Nested(ctx, ch, func(l channel.Location) bool { return strings.EqualFold(l.Context, full) })

	ch.SetVar("MACRO_DEPTH", strconv.Itoa(depth))
	offset, _ := ch.Var("MACRO_OFFSET")
	for name, v := range saved {
		ch.SetVar(name, v)
	}
	here := ch.Location()
	if !strings.EqualFold(here.Context, full) {
		// Jumped out of the macro: continue where it went.
		if err == nil {
			err = m.dp.Goto(ctx, ch, app.Target{Context: here.Context, Exten: here.Exten, Priority: strconv.Itoa(here.Priority)})
		}
		return err
	}
	back := orig
	if n, convErr := strconv.Atoi(strings.TrimSpace(offset)); convErr == nil && m.dp.Exists(ch, back.Context, back.Exten, back.Priority+n+1) {
		back.Priority += n
	}
	ch.SetLocation(back)
	return err
}

// DryRun implements app.DryRunner: the macro's priorities are followed.
func (m *Macro) DryRun(ctx context.Context, ch *channel.Channel, args string) (string, error) {
	return "", m.Exec(ctx, ch, args)
}

var (
	_ app.App       = (*Macro)(nil)
	_ app.DryRunner = (*Macro)(nil)
)
