package pbx

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/security"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// registerSecurityCommands adds the ban console commands (chan_sip had no
// ban list; these follow fail2ban-client's vocabulary under "sip" and
// "security") and puts the guard in front of the SIP server as its Gate,
// so that banned sources are dropped before parsing.
func (p *PBX) registerSecurityCommands(reg *cli.Registry) {
	p.sip.SetGate(p.auth)

	show := func(ctx context.Context, w io.Writer, args []string) error {
		return p.showBans(w)
	}
	reg.Register(cli.Command{Words: []string{"sip", "show", "bans"}, Summary: "List source addresses banned after failed authentications", Run: show})
	reg.Register(cli.Command{Words: []string{"security", "show", "bans"}, Summary: "List banned source addresses", Run: show})
	unban := func(ctx context.Context, w io.Writer, args []string) error {
		if len(args) != 1 {
			return cli.ErrUsage
		}
		if args[0] == "all" {
			fmt.Fprintf(w, "%d bans lifted.\n", p.auth.shield.UnbanAll())
			return nil
		}
		a, ok := security.ParseAddr(args[0])
		if !ok {
			return fmt.Errorf("%q is not an IP address", args[0])
		}
		if !p.auth.shield.Unban(a) {
			fmt.Fprintf(w, "%s is not banned.\n", a)
			return nil
		}
		p.log.Info("security: ban lifted from console", "event", "Unbanned", "src", a.String())
		fmt.Fprintf(w, "%s unbanned.\n", a)
		return nil
	}
	reg.Register(cli.Command{Words: []string{"security", "show", "overload"}, Summary: "Display overload control: queue delay, limits and refusals",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return writeOverload(w, p.sip, p.auth) }})
	reg.Register(cli.Command{Words: []string{"sip", "unban"}, Usage: "sip unban <ip>|all", Summary: "Lift the ban on a source address", Run: unban})
	reg.Register(cli.Command{Words: []string{"security", "unban"}, Usage: "security unban <ip>|all", Summary: "Lift the ban on a source address", Run: unban})
}

func (p *PBX) showBans(w io.Writer) error {
	bans := p.auth.shield.Bans()
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "IP\tReason\tRemaining(s)\tFailures\n")
	for _, b := range bans {
		left := int(b.Until.Sub(now).Round(time.Second).Seconds())
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", b.Addr, b.Reason, max(left, 0), b.Failures)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d banned source(s).\n", len(bans))
	return nil
}

// writeOverload is "security show overload": what overload control sees
// and has done since start (docs/operations.md, Overload).
func writeOverload(w io.Writer, srv *sipserver.Server, g *guard) error {
	cfg := g.shield.Config()
	limit := func(d time.Duration) string {
		if d <= 0 {
			return "off"
		}
		return d.String()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Standing queue delay:\t%v\n", srv.QueueDelay().Round(time.Millisecond))
	fmt.Fprintf(tw, "overload_delay:\t%s\n", limit(cfg.OverloadDelay))
	fmt.Fprintf(tw, "overload_wait:\t%s\n", limit(cfg.OverloadWait))
	fmt.Fprintf(tw, "New INVITEs refused in the read loop (503):\t%d\n", srv.Overloaded())
	fmt.Fprintf(tw, "New INVITEs refused after queueing (503):\t%d\n", g.overloaded.Load())
	fmt.Fprintf(tw, "Datagrams dropped (request queue full):\t%d\n", srv.Dropped())
	return tw.Flush()
}
