package pbx

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/cli"
)

func (p *PBX) registerCallCommands(reg *cli.Registry) {
	reg.Register(cli.Command{Words: []string{"dialplan", "show"}, Usage: "dialplan show [context]", Summary: "Show dialplan",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			c := ""
			if len(args) > 0 {
				c = strings.TrimPrefix(args[0], "@")
				if _, after, ok := strings.Cut(c, "@"); ok {
					c = after
				}
			}
			return p.engine.Dialplan().Show(w, c)
		}})
	reg.Register(cli.Command{Words: []string{"dialplan", "reload"}, Summary: "Reload extensions and *only* extensions",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			dp, diags, err := loadDialplan(p.confDir)
			for _, d := range diags {
				fmt.Fprintf(w, "WARNING: %s\n", d.Error())
			}
			if err != nil {
				return fmt.Errorf("Dialplan reload failed, the running dialplan is kept: %w", err)
			}
			p.engine.Reload(dp)
			fmt.Fprintln(w, "Dialplan reloaded.")
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"dialplan", "test"}, Usage: "dialplan test <context> <exten> [callerid]", Summary: "Dry-run an extension: which priorities would run",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) < 2 {
				return cli.ErrUsage
			}
			cid := ""
			if len(args) > 2 {
				cid = args[2]
			}
			return p.engine.Test(w, args[0], args[1], cid)
		}})
	reg.Register(cli.Command{Words: []string{"cdr", "show", "status"}, Summary: "Display the CDR status",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.cdr.WriteStatus(w) }})
	reg.Register(cli.Command{Words: []string{"core", "show", "channels"}, Usage: "core show channels [concise|verbose|count]", Summary: "Display information on channels",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			mode := ""
			if len(args) > 0 {
				mode = args[0]
			}
			return p.showChannels(w, mode)
		}})
	reg.Register(cli.Command{Words: []string{"core", "show", "calls"}, Usage: "core show calls [uptime]", Summary: "Display information on calls",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			n := p.activeCalls()
			fmt.Fprintf(w, "%d active call%s\n%d call%s processed\n", n, plural1(n), p.processed.Load(), plural1(int(p.processed.Load())))
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"rtp", "show", "kernel"}, Summary: "Display in-kernel RTP forwarding (rtp.conf kernelforward)",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			on, n := p.media.Kernel()
			if !on {
				fmt.Fprintln(w, "In-kernel RTP forwarding: off")
				return nil
			}
			tables := "table ip " + p.media.Config().KernelTable
			if p.media.KernelIPv6() {
				tables = "tables ip and ip6 " + p.media.Config().KernelTable
			}
			fmt.Fprintf(w, "In-kernel RTP forwarding: on (nftables %s)\n%d bridge%s forwarded in the kernel\n", tables, n, plural1(n))
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"channel", "request", "hangup"}, Usage: "channel request hangup <channel>|all", Summary: "Request a hangup on a given channel",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) != 1 {
				return cli.ErrUsage
			}
			if strings.EqualFold(args[0], "all") {
				for _, ch := range p.chans.Channels() {
					fmt.Fprintf(w, "Requested Hangup on channel '%s'\n", ch.Name())
					ch.Hangup(channel.CauseNormalClearing)
				}
				return nil
			}
			ch := p.chans.Find(args[0])
			if ch == nil {
				return fmt.Errorf("%s is not a known channel", args[0])
			}
			fmt.Fprintf(w, "Requested Hangup on channel '%s'\n", ch.Name())
			ch.Hangup(channel.CauseNormalClearing)
			return nil
		}})
}

func plural1(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// activeCalls counts calls as Asterisk does: one per inbound channel.
func (p *PBX) activeCalls() int {
	n := 0
	for _, ch := range p.chans.Channels() {
		if ch.Direction() == channel.Inbound {
			n++
		}
	}
	return n
}

func (p *PBX) showChannels(w io.Writer, mode string) error {
	chs := p.chans.Channels()
	switch mode {
	case "count":
	case "concise":
		for _, ch := range chs {
			loc := ch.Location()
			app, data := ch.App()
			peer := ""
			if b := ch.Bridged(); b != nil {
				peer = b.Name()
			}
			fmt.Fprintf(w, "%s!%s!%s!%d!%s!%s!%s!%s!%s!%d!%s!%s\n", ch.Name(), loc.Context, loc.Exten, loc.Priority,
				ch.State(), app, data, ch.CallerID().Num, ch.AccountCode(), int(time.Since(ch.Created()).Seconds()), peer, ch.UniqueID())
		}
		return nil
	case "verbose":
		fmt.Fprintf(w, "%-20s %-20s %-16s %4s %-7s %-12s %-25s %-15s %8s %-11s %-20s\n",
			"Channel", "Context", "Extension", "Prio", "State", "Application", "Data", "CallerID", "Duration", "Accountcode", "BridgedTo")
		for _, ch := range chs {
			loc := ch.Location()
			app, data := ch.App()
			peer := ""
			if b := ch.Bridged(); b != nil {
				peer = b.Name()
			}
			d := time.Since(ch.Created()).Round(time.Second)
			fmt.Fprintf(w, "%-20s %-20s %-16s %4d %-7s %-12s %-25s %-15s %02d:%02d:%02d %-11s %-20s\n", ch.Name(), loc.Context, loc.Exten, loc.Priority,
				ch.State(), app, trunc(data, 25), ch.CallerID().Num, int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60, ch.AccountCode(), peer)
		}
	default:
		fmt.Fprintf(w, "%-20s %-20s %-7s %-30s\n", "Channel", "Location", "State", "Application(Data)")
		for _, ch := range chs {
			loc := ch.Location()
			app, data := ch.App()
			where := ""
			if loc.Context != "" {
				where = fmt.Sprintf("%s@%s:%d", loc.Exten, loc.Context, loc.Priority)
			}
			appData := ""
			if app != "" {
				appData = app + "(" + data + ")"
			}
			fmt.Fprintf(w, "%-20s %-20s %-7s %-30s\n", ch.Name(), where, ch.State(), trunc(appData, 30))
		}
	}
	n := len(chs)
	fmt.Fprintf(w, "%d active channel%s\n", n, plural1(n))
	calls := p.activeCalls()
	fmt.Fprintf(w, "%d active call%s\n", calls, plural1(calls))
	fmt.Fprintf(w, "%d call%s processed\n", p.processed.Load(), plural1(int(p.processed.Load())))
	return nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
