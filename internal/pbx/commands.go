package pbx

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/registrar"
)

func (p *PBX) registerCommands(reg *cli.Registry) {
	reg.Register(cli.Command{Words: []string{"core", "show", "version"}, Summary: "Display version info",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			fmt.Fprintf(w, "gopbx %s built with %s\n", p.opts.Version, goVersion())
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"core", "show", "uptime"}, Usage: "core show uptime [seconds]", Summary: "Show uptime information",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			now := time.Now()
			if len(args) > 0 && args[0] == "seconds" {
				fmt.Fprintf(w, "System uptime: %d\nLast reload: %d\n", int(now.Sub(p.started).Seconds()), int(now.Sub(p.lastReload()).Seconds()))
				return nil
			}
			fmt.Fprintf(w, "System uptime: %s\nLast reload: %s\n", human(now.Sub(p.started)), human(now.Sub(p.lastReload())))
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"core", "reload"}, Summary: "Global reload",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			warns, err := p.Reload(ctx)
			for _, d := range warns {
				fmt.Fprintf(w, "WARNING: %s\n", d)
			}
			if err != nil {
				return fmt.Errorf("Reload failed, the running configuration is kept: %w", err)
			}
			fmt.Fprintln(w, "Configuration reloaded.")
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"module", "reload"}, Usage: "module reload [module]", Summary: "Reload configuration (as core reload)",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return reg.Exec(ctx, w, "core reload") }})
	reg.Register(cli.Command{Words: []string{"core", "stop"}, Usage: "core stop now|gracefully", Summary: "Shut down gopbx",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) != 1 || (args[0] != "now" && args[0] != "gracefully" && args[0] != "when") {
				return cli.ErrUsage
			}
			fmt.Fprintln(w, "Shutting down gopbx.")
			p.log.Info("stop requested from console", "mode", args[0])
			go p.stop()
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"core", "set", "verbose"}, Usage: "core set verbose <level>", Summary: "Set log verbosity (0 info, 1+ debug)",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) != 1 {
				return cli.ErrUsage
			}
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return cli.ErrUsage
			}
			p.setVerbose(n)
			fmt.Fprintf(w, "Verbosity is now %d\n", n)
			return nil
		}})

	// chan_sip style.
	reg.Register(cli.Command{Words: []string{"sip", "show", "peers"}, Summary: "List defined SIP peers",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.showSIPPeers(ctx, w) }})
	reg.Register(cli.Command{Words: []string{"sip", "show", "peer"}, Usage: "sip show peer <name>", Summary: "Show details on specific SIP peer",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) < 1 {
				return cli.ErrUsage
			}
			return p.showPeer(ctx, w, endpoint.TechSIP, args[0])
		}})
	reg.Register(cli.Command{Words: []string{"sip", "show", "settings"}, Summary: "Show SIP global settings",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.showSettings(w) }})
	reg.Register(cli.Command{Words: []string{"sip", "set", "debug"}, Usage: "sip set debug {on|off|ip <addr>|peer <name>}", Summary: "Enable/Disable SIP debugging",
		Run: p.sipSetDebug})

	// res_pjsip style.
	reg.Register(cli.Command{Words: []string{"pjsip", "show", "endpoints"}, Summary: "List PJSIP endpoints",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.showEndpoints(ctx, w, "") }})
	reg.Register(cli.Command{Words: []string{"pjsip", "show", "endpoint"}, Usage: "pjsip show endpoint <name>", Summary: "Show PJSIP endpoint",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) < 1 {
				return cli.ErrUsage
			}
			return p.showEndpoints(ctx, w, args[0])
		}})
	reg.Register(cli.Command{Words: []string{"pjsip", "show", "contacts"}, Summary: "List PJSIP contacts",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.showContacts(ctx, w) }})
	reg.Register(cli.Command{Words: []string{"pjsip", "show", "aors"}, Summary: "List PJSIP aors",
		Run: func(ctx context.Context, w io.Writer, args []string) error { return p.showAORs(ctx, w) }})
	reg.Register(cli.Command{Words: []string{"pjsip", "set", "logger"}, Usage: "pjsip set logger {on|off|host <addr>}", Summary: "Enable/Disable PJSIP logger output",
		Run: p.sipSetDebug})
}

func (p *PBX) sipSetDebug(ctx context.Context, w io.Writer, args []string) error {
	tr := p.sip.Tracer()
	if len(args) == 0 {
		return cli.ErrUsage
	}
	switch strings.ToLower(args[0]) {
	case "on":
		tr.Enable()
		fmt.Fprintln(w, "SIP Debugging enabled")
	case "off":
		tr.Disable()
		fmt.Fprintln(w, "SIP Debugging Disabled")
	case "ip", "host":
		if len(args) < 2 {
			return cli.ErrUsage
		}
		host := args[1]
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ips, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			return fmt.Errorf("Unable to resolve %s: %w", host, err)
		}
		tr.Enable(ips...)
		fmt.Fprintf(w, "SIP Debugging Enabled for IP: %s\n", strings.Join(ips, ", "))
	case "peer":
		if len(args) < 2 {
			return cli.ErrUsage
		}
		var ips []string
		bs, _ := p.store.Lookup(ctx, args[1])
		for _, b := range bs {
			if h, _, err := net.SplitHostPort(b.Received); err == nil {
				ips = append(ips, h)
			}
		}
		if ep := p.endpoints().Get(endpoint.TechSIP, args[1]); ep != nil && ep.Host != "" && !ep.Dynamic {
			ips = append(ips, ep.Host)
		}
		if len(ips) == 0 {
			return fmt.Errorf("Unable to get IP address of peer '%s'", args[1])
		}
		tr.Enable(ips...)
		fmt.Fprintf(w, "SIP Debugging Enabled for IP: %s\n", strings.Join(ips, ", "))
	default:
		return cli.ErrUsage
	}
	return nil
}

func (p *PBX) showSIPPeers(ctx context.Context, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Name/username\tHost\tDyn\tForcerport\tComedia\tACL\tPort\tStatus\tDescription\n")
	n, mon, on, off, unmon := 0, 0, 0, 0, 0
	for _, ep := range p.endpoints().All() {
		if ep.Tech != endpoint.TechSIP {
			continue
		}
		n++
		name := ep.Name
		if len(ep.Credentials) > 0 && ep.Credentials[0].Username != ep.Name {
			name += "/" + ep.Credentials[0].Username
		} else if ep.Dynamic {
			name += "/" + ep.Name
		}
		host, port := "(Unspecified)", "0"
		status := "Unmonitored"
		bs, _ := p.store.Lookup(ctx, aorOf(ep))
		if len(bs) > 0 {
			h, pt, _ := net.SplitHostPort(bs[0].Received)
			host, port = h, pt
		} else if !ep.Dynamic && ep.Host != "" {
			host, port = ep.Host, strconv.Itoa(portOr(ep.Port, 5060))
		}
		if ep.QualifyFrequency > 0 {
			mon++
			status = "UNKNOWN"
			if len(bs) > 0 {
				if st, ok := p.qualify.Status(bs[0].AOR, bs[0].Contact); ok {
					if st.Status == registrar.Reachable {
						status = fmt.Sprintf("OK (%d ms)", st.RTT.Milliseconds())
						on++
					} else {
						status = "UNREACHABLE"
						off++
					}
				}
			}
		} else {
			unmon++
		}
		dyn := " "
		if ep.Dynamic {
			dyn = "D"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, host, dyn, yesNo(ep.NAT.ForceRport), yesNo(ep.NAT.Comedia), " ", port, status, "")
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sip peers [Monitored: %d online, %d offline Unmonitored: %d online, %d offline]\n", n, on, mon-on, unmon, 0)
	_ = off
	return nil
}

func (p *PBX) showPeer(ctx context.Context, w io.Writer, tech endpoint.Tech, name string) error {
	ep := p.endpoints().Get(tech, name)
	if ep == nil {
		return fmt.Errorf("Peer %s not found.", name)
	}
	fmt.Fprintf(w, "\n\n  * Name       : %s\n", ep.Name)
	fmt.Fprintf(w, "  Declared at  : %s\n", ep.Pos)
	fmt.Fprintf(w, "  Type         : %s\n", ep.Type)
	secret := "<Not set>"
	if len(ep.Credentials) > 0 {
		secret = "<Set>"
	}
	fmt.Fprintf(w, "  Secret       : %s\n", secret)
	fmt.Fprintf(w, "  Context      : %s\n", ep.Context)
	fmt.Fprintf(w, "  Dynamic      : %s\n", yesNo(ep.Dynamic))
	fmt.Fprintf(w, "  Callerid     : %s\n", ep.CallerID)
	fmt.Fprintf(w, "  Call limit   : %d\n", ep.CallLimit)
	fmt.Fprintf(w, "  Insecure     : %s\n", strings.Join(ep.Insecure, ","))
	fmt.Fprintf(w, "  Force rport  : %s\n", yesNo(ep.NAT.ForceRport))
	fmt.Fprintf(w, "  Comedia      : %s\n", yesNo(ep.NAT.Comedia))
	fmt.Fprintf(w, "  Rewrite Cont.: %s\n", yesNo(ep.NAT.RewriteContact))
	fmt.Fprintf(w, "  DirectMedia  : %s\n", yesNo(ep.DirectMedia))
	fmt.Fprintf(w, "  DTMFmode     : %s\n", ep.DTMFMode)
	fmt.Fprintf(w, "  FromUser     : %s\n", ep.FromUser)
	fmt.Fprintf(w, "  FromDomain   : %s\n", ep.FromDomain)
	fmt.Fprintf(w, "  Codecs       : %s\n", strings.Join(ep.Allow, ","))
	if ep.QualifyFrequency > 0 {
		fmt.Fprintf(w, "  Qualify      : every %s, timeout %s\n", ep.QualifyFrequency, ep.QualifyTimeout)
	} else {
		fmt.Fprintf(w, "  Qualify      : no\n")
	}
	if !ep.Dynamic && ep.Host != "" {
		fmt.Fprintf(w, "  Addr->IP     : %s:%d\n", ep.Host, portOr(ep.Port, 5060))
	}
	bs, _ := p.store.Lookup(ctx, aorOf(ep))
	for _, b := range bs {
		st := p.contactStatus(b, ep)
		fmt.Fprintf(w, "  Contact      : %s\n", b.Contact)
		fmt.Fprintf(w, "  Addr->IP     : %s (%s)\n", b.Received, b.Transport)
		fmt.Fprintf(w, "  Reg. exp.    : %d seconds\n", int(time.Until(b.Expires).Seconds()))
		fmt.Fprintf(w, "  Useragent    : %s\n", b.UserAgent)
		fmt.Fprintf(w, "  Status       : %s\n", st)
	}
	fmt.Fprintln(w)
	return nil
}

func (p *PBX) contactStatus(b location.Binding, ep *endpoint.Endpoint) string {
	if ep == nil || ep.QualifyFrequency <= 0 {
		return "Unmonitored"
	}
	st, ok := p.qualify.Status(b.AOR, b.Contact)
	if !ok {
		return "Unknown"
	}
	if st.Status == registrar.Reachable {
		return fmt.Sprintf("OK (%d ms)", st.RTT.Milliseconds())
	}
	return "UNREACHABLE"
}

func (p *PBX) showSettings(w io.Writer) error {
	c := p.current()
	fmt.Fprintf(w, "\n\nGlobal Settings:\n----------------\n")
	for _, l := range p.sip.Listeners() {
		fmt.Fprintf(w, "  %-24s %s\n", strings.ToUpper(l.Proto)+" SIP Port:", l.Addr)
	}
	fmt.Fprintf(w, "  %-24s %s\n", "User Agent:", c.UserAgent)
	fmt.Fprintf(w, "  %-24s %s\n", "Realm:", c.Realm)
	fmt.Fprintf(w, "  %-24s %s\n", "Allow guests:", yesNo(c.AllowGuest))
	fmt.Fprintf(w, "  %-24s %s\n", "Always auth rejects:", yesNo(c.AlwaysAuthReject))
	fmt.Fprintf(w, "  %-24s %s\n", "Default context:", c.DefaultContext)
	fmt.Fprintf(w, "  %-24s %s\n", "SIP Debug:", p.sip.Tracer().Status())
	pol := p.reg.Policy()
	fmt.Fprintf(w, "  %-24s %d secs\n", "Reg. min duration:", int(pol.MinExpiry.Seconds()))
	fmt.Fprintf(w, "  %-24s %d secs\n", "Reg. max duration:", int(pol.MaxExpiry.Seconds()))
	fmt.Fprintf(w, "  %-24s %d secs\n", "Reg. default duration:", int(pol.DefaultExpiry.Seconds()))
	if c.ExternSignaling != "" {
		fmt.Fprintf(w, "  %-24s %s\n", "Externaddr:", c.ExternSignaling)
	}
	for _, n := range c.LocalNets {
		fmt.Fprintf(w, "  %-24s %s\n", "Localnet:", n)
	}
	fmt.Fprintf(w, "  %-24s %d\n", "Endpoints:", len(p.endpoints().All()))
	return nil
}

const pjsipRule = "=========================================================================================="

func (p *PBX) showEndpoints(ctx context.Context, w io.Writer, only string) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, " Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>")
	fmt.Fprintln(w, "    I/OAuth:  <AuthId/UserName...........................................................>")
	fmt.Fprintln(w, "        Aor:  <Aor............................................>  <MaxContact>")
	fmt.Fprintln(w, "      Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>")
	fmt.Fprintln(w, pjsipRule)
	n := 0
	for _, ep := range p.endpoints().All() {
		if ep.Tech != endpoint.TechPJSIP || (only != "" && ep.Name != only) {
			continue
		}
		n++
		var contacts []location.Binding
		for _, a := range aorsOf(ep) {
			bs, _ := p.store.Lookup(ctx, a)
			contacts = append(contacts, bs...)
		}
		state := "Unavailable"
		if len(contacts) > 0 || len(ep.StaticContacts) > 0 || !ep.Dynamic {
			state = "Not in use"
		}
		limit := "inf"
		if ep.CallLimit > 0 {
			limit = strconv.Itoa(ep.CallLimit)
		}
		id := ep.Name
		if ep.CallerID != "" {
			id += "/" + ep.CallerID
		}
		fmt.Fprintf(w, "\n Endpoint:  %-53s %-12s  0 of %s\n", id, state, limit)
		for _, c := range ep.Credentials {
			fmt.Fprintf(w, "     InAuth:  %s/%s\n", ep.Name, c.Username)
		}
		for _, a := range aorsOf(ep) {
			fmt.Fprintf(w, "        Aor:  %-53s %d\n", a, ep.MaxContacts)
			for _, b := range contacts {
				if b.AOR == a {
					p.writeContact(w, "      ", b, ep)
				}
			}
		}
		if ep.Transport != "" {
			fmt.Fprintf(w, "  Transport:  %s\n", ep.Transport)
		}
		for _, pf := range ep.Identify {
			fmt.Fprintf(w, "   Identify:  %s\n        Match: %s\n", ep.Name, pf)
		}
		if only != "" {
			fmt.Fprintf(w, "\n ParameterName                      : ParameterValue\n")
			fmt.Fprintf(w, " %-35s: %s\n", "context", ep.Context)
			fmt.Fprintf(w, " %-35s: %s\n", "allow", "("+strings.Join(ep.Allow, "|")+")")
			fmt.Fprintf(w, " %-35s: %s\n", "callerid", ep.CallerID)
			fmt.Fprintf(w, " %-35s: %s\n", "direct_media", yesNo(ep.DirectMedia))
			fmt.Fprintf(w, " %-35s: %s\n", "dtmf_mode", ep.DTMFMode)
			fmt.Fprintf(w, " %-35s: %s\n", "force_rport", yesNo(ep.NAT.ForceRport))
			fmt.Fprintf(w, " %-35s: %s\n", "rewrite_contact", yesNo(ep.NAT.RewriteContact))
			fmt.Fprintf(w, " %-35s: %s\n", "rtp_symmetric", yesNo(ep.NAT.Comedia))
			fmt.Fprintf(w, " %-35s: %s\n", "from_user", ep.FromUser)
			fmt.Fprintf(w, " %-35s: %s\n", "from_domain", ep.FromDomain)
			fmt.Fprintf(w, " %-35s: %s\n", "declared_at", ep.Pos)
		}
	}
	if n == 0 {
		if only != "" {
			return fmt.Errorf("Unable to find object %s.", only)
		}
		fmt.Fprintln(w, "\nNo objects found.")
		return nil
	}
	fmt.Fprintf(w, "\n\nObjects found: %d\n", n)
	return nil
}

func (p *PBX) writeContact(w io.Writer, indent string, b location.Binding, ep *endpoint.Endpoint) {
	status, rtt := "NonQual", "nan"
	if ep != nil && ep.QualifyFrequency > 0 {
		status = "Unknown"
		if st, ok := p.qualify.Status(b.AOR, b.Contact); ok {
			if st.Status == registrar.Reachable {
				status = "Avail"
				rtt = fmt.Sprintf("%.3f", float64(st.RTT.Microseconds())/1000)
			} else {
				status = "Unavail"
			}
		}
	}
	h := fnv.New32a()
	io.WriteString(h, b.AOR+b.Contact)
	fmt.Fprintf(w, "%sContact:  %-42s %08x %-8s %10s\n", indent, b.AOR+"/"+b.Contact, h.Sum32(), status, rtt)
}

func (p *PBX) showContacts(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>")
	fmt.Fprintln(w, pjsipRule)
	all, err := p.store.All(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	n := 0
	for _, b := range all {
		if !b.Live(now) {
			continue
		}
		n++
		fmt.Fprintln(w)
		p.writeContact(w, "  ", b, p.endpoints().ByAOR(b.AOR))
	}
	if n == 0 {
		fmt.Fprintln(w, "\nNo objects found.")
		return nil
	}
	fmt.Fprintf(w, "\nObjects found: %d\n", n)
	return nil
}

func (p *PBX) showAORs(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "      Aor:  <Aor..............................................>  <MaxContact>")
	fmt.Fprintln(w, "    Contact:  <Aor/ContactUri............................> <Hash....> <Status> <RTT(ms)..>")
	fmt.Fprintln(w, pjsipRule)
	seen := map[string]bool{}
	var names []string
	owner := map[string]*endpoint.Endpoint{}
	for _, ep := range p.endpoints().All() {
		if ep.Tech != endpoint.TechPJSIP {
			continue
		}
		for _, a := range aorsOf(ep) {
			if !seen[a] {
				seen[a] = true
				names = append(names, a)
				owner[a] = ep
			}
		}
	}
	sort.Strings(names)
	for _, a := range names {
		fmt.Fprintf(w, "\n      Aor:  %-53s %d\n", a, owner[a].MaxContacts)
		bs, _ := p.store.Lookup(ctx, a)
		for _, b := range bs {
			p.writeContact(w, "    ", b, owner[a])
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "\nNo objects found.")
		return nil
	}
	fmt.Fprintf(w, "\nObjects found: %d\n", len(names))
	return nil
}

func aorsOf(ep *endpoint.Endpoint) []string {
	if len(ep.AORs) > 0 {
		return ep.AORs
	}
	return []string{ep.Name}
}

func aorOf(ep *endpoint.Endpoint) string { return aorsOf(ep)[0] }

func portOr(p, def int) int {
	if p == 0 {
		return def
	}
	return p
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func human(d time.Duration) string {
	d = d.Round(time.Second)
	var parts []string
	days := int(d.Hours()) / 24
	if days > 0 {
		parts = append(parts, plural(days, "day"))
	}
	if h := int(d.Hours()) % 24; h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m := int(d.Minutes()) % 60; m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	if s := int(d.Seconds()) % 60; s > 0 || len(parts) == 0 {
		parts = append(parts, plural(s, "second"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
