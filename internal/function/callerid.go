package function

import (
	"context"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// CALLERID(datatype): datatype is all, name, num or number. Reading "all"
// gives "Name" <num> as ast_callerid_merge does: the name or the number
// alone when only one is known. Writing "all" parses that form.
func init() {
	Register("CALLERID", func(*Env) (Function, error) {
		return rw{read: readCallerID, write: writeCallerID}, nil
	})
}

func callerIDItem(args string) string {
	a := app.SplitArgs(args)
	if len(a) == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(a[0]))
}

func readCallerID(_ context.Context, ch *channel.Channel, args string) (string, error) {
	if ch == nil {
		return "", ErrNoChannel
	}
	id := ch.CallerID()
	switch item := callerIDItem(args); item {
	case "all":
		return MergeCallerID(id), nil
	case "name":
		return id.Name, nil
	case "num", "number":
		return id.Num, nil
	default:
		return "", fmt.Errorf("%w: unknown CALLERID data type %q", ErrUsage, item)
	}
}

func writeCallerID(_ context.Context, ch *channel.Channel, args, value string) error {
	if ch == nil {
		return ErrNoChannel
	}
	id := ch.CallerID()
	switch item := callerIDItem(args); item {
	case "all":
		id = channel.ParseCallerID(value)
	case "name":
		id.Name = value
	case "num", "number":
		id.Num = value
	default:
		return fmt.Errorf("%w: unknown CALLERID data type %q", ErrUsage, item)
	}
	ch.SetCallerID(id)
	return nil
}

// MergeCallerID formats a caller ID as ${CALLERID(all)} does.
func MergeCallerID(id channel.CallerID) string {
	switch {
	case id.Name != "" && id.Num != "":
		return `"` + id.Name + `" <` + id.Num + ">"
	case id.Name != "":
		return id.Name
	}
	return id.Num
}
