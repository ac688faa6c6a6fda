package function

import (
	"context"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/channel"
)

func init() {
	// GLOBAL(name): a global variable, as [globals] sets them.
	Register("GLOBAL", func(env *Env) (Function, error) {
		return rw{
			read: func(_ context.Context, _ *channel.Channel, args string) (string, error) {
				v, _ := env.Globals.Global(strings.TrimSpace(args))
				return v, nil
			},
			write: func(_ context.Context, _ *channel.Channel, args, value string) error {
				name := strings.TrimSpace(args)
				if name == "" {
					return fmt.Errorf("%w: GLOBAL() needs a variable name", ErrUsage)
				}
				env.Globals.SetGlobal(name, value)
				return nil
			},
		}, nil
	})
	Register("CHANNEL", func(*Env) (Function, error) {
		return rw{read: readChannel, write: writeChannel}, nil
	})
}

// readChannel is CHANNEL(item) for the items gopbx keeps: name, state,
// language, accountcode, uniqueid, channeltype, checkhangup.
func readChannel(_ context.Context, ch *channel.Channel, args string) (string, error) {
	if ch == nil {
		return "", ErrNoChannel
	}
	switch item := strings.ToLower(strings.TrimSpace(args)); item {
	case "name":
		return ch.Name(), nil
	case "state":
		return ch.State().String(), nil
	case "language":
		return ch.Language(), nil
	case "accountcode":
		return ch.AccountCode(), nil
	case "uniqueid":
		return ch.UniqueID(), nil
	case "channeltype":
		return ch.Tech(), nil
	case "checkhangup":
		if ch.HungUp() {
			return "1", nil
		}
		return "0", nil
	default:
		return "", fmt.Errorf("%w: CHANNEL(%s) is not supported", ErrUsage, item)
	}
}

// writeChannel sets CHANNEL(language) and CHANNEL(accountcode).
func writeChannel(_ context.Context, ch *channel.Channel, args, value string) error {
	if ch == nil {
		return ErrNoChannel
	}
	switch item := strings.ToLower(strings.TrimSpace(args)); item {
	case "language":
		ch.SetLanguage(value)
	case "accountcode":
		ch.SetAccountCode(value)
	default:
		return fmt.Errorf("%w: CHANNEL(%s)", ErrNotWritable, item)
	}
	return nil
}
