package function

import (
	"context"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

func init() {
	// PJSIP_HEADER(read,Name[,number]) and SIP_HEADER(Name[,number]) read a
	// header of the request that created the inbound channel. Only the
	// first instance of a header is available (number 1, the default).
	simple("PJSIP_HEADER", func(_ context.Context, _ *Env, ch *channel.Channel, args string) (string, error) {
		a := app.SplitArgs(args)
		if len(a) < 2 {
			return "", fmt.Errorf("%w: syntax PJSIP_HEADER(<action>,<name>[,<number>])", ErrUsage)
		}
		if action := strings.ToLower(strings.TrimSpace(a[0])); action != "read" {
			return "", fmt.Errorf("%w: PJSIP_HEADER(%s,...) is not supported, only read", ErrUsage, action)
		}
		return readHeader(ch, a[1], a[2:])
	})
	simple("SIP_HEADER", func(_ context.Context, _ *Env, ch *channel.Channel, args string) (string, error) {
		a := app.SplitArgs(args)
		if len(a) < 1 {
			return "", fmt.Errorf("%w: syntax SIP_HEADER(<name>[,<number>])", ErrUsage)
		}
		return readHeader(ch, a[0], a[1:])
	})
}

func readHeader(ch *channel.Channel, name string, rest []string) (string, error) {
	if ch == nil {
		return "", ErrNoChannel
	}
	if len(rest) > 0 {
		if n, ok := scanInt(rest[0]); ok && n > 1 {
			return "", nil
		}
	}
	v, _ := ch.Header(strings.TrimSpace(name))
	return v, nil
}
