package pbx

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/trunk"
)

// registerTrunkCommands creates the outbound registration manager on the
// loaded configuration and adds its console commands. The clients start
// in Run, once the listeners are open.
func (p *PBX) registerTrunkCommands(reg *cli.Registry) {
	send := trunk.SenderFunc(func(ctx context.Context, local string, req *sip.Request) (*sip.Response, error) {
		// The client for our listener: the REGISTER leaves from the
		// socket the Contact names, so the provider's INVITEs find us.
		return p.sip.ClientFor(local, req.Destination(), req.Transport()).Do(ctx, req)
	})
	p.trunks = trunk.NewManager(send, p.log)
	p.syncTrunks(p.current())

	reg.Register(cli.Command{Words: []string{"sip", "show", "registry"}, Summary: "List SIP registration status",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			p.showRegistry(w)
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"pjsip", "show", "registrations"}, Summary: "List PJSIP outbound registrations",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			p.showRegistrations(w)
			return nil
		}})
}

// syncTrunks makes the registration clients follow cfg; registrations
// that cannot run are logged with file:line and skipped.
func (p *PBX) syncTrunks(cfg *pbxconf.PBX) {
	specs, errs := trunk.FromConfig(cfg)
	for _, err := range errs {
		p.log.Warn("registration skipped", "error", err)
	}
	p.trunks.Sync(specs)
}

// resolveTrunkHosts identifies trunks named by DNS (pjsip identify
// match=<host>, sip.conf host=<name> with insecure=port) by their
// addresses, resolved now, before cfg goes live.
func (p *PBX) resolveTrunkHosts(ctx context.Context, cfg *pbxconf.PBX) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	set, failed := trunk.ResolveIdentify(ctx, cfg.Endpoints, func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	})
	for _, h := range failed {
		p.log.Warn("trunk host does not resolve: calls from it are not identified", "host", h)
	}
	cfg.Endpoints = set
}

// stopTrunks un-registers every registration (bounded, as Asterisk's
// unload is).
func (p *PBX) stopTrunks() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.trunks.Shutdown(ctx); err != nil {
		p.log.Warn("registrations did not stop in time", "error", err)
	}
}

// showRegistry is chan_sip's "sip show registry".
func (p *PBX) showRegistry(w io.Writer) {
	const format = "%-39.39s %-6.6s %-12.12s  %8s %-20.20s %-25.25s\n"
	fmt.Fprintf(w, format, "Host", "dnsmgr", "Username", "Refresh", "State", "Reg.Time")
	n := 0
	for _, st := range p.trunks.Statuses() {
		if st.Spec.Tech != endpoint.TechSIP {
			continue
		}
		n++
		refresh := st.Refresh
		if refresh == 0 {
			refresh = st.Spec.Expiry
		}
		regTime := ""
		if !st.RegTime.IsZero() {
			regTime = st.RegTime.Format("Mon, 02 Jan 2006 15:04:05")
		}
		fmt.Fprintf(w, format, st.Spec.Host(), "N", st.Spec.User(), fmt.Sprint(int(refresh/time.Second)), string(st.State), regTime)
	}
	fmt.Fprintf(w, "%d SIP registrations.\n", n)
}

// showRegistrations is res_pjsip's "pjsip show registrations".
func (p *PBX) showRegistrations(w io.Writer) {
	const uriField = 53
	fmt.Fprintln(w, "\n <Registration/ServerURI..............................>  <Auth....................>  <Status.......>")
	fmt.Fprintln(w, "==========================================================================================")
	n := 0
	for _, st := range p.trunks.Statuses() {
		if st.Spec.Tech != endpoint.TechPJSIP {
			continue
		}
		if n == 0 {
			fmt.Fprintln(w)
		}
		n++
		id := st.Spec.Name
		width := max(uriField-len(id), 0)
		auth := st.Spec.AuthName
		if auth == "" {
			auth = "n/a"
		}
		exp := ""
		if !st.Expires.IsZero() {
			left := int(time.Until(st.Expires).Round(time.Second) / time.Second)
			if left < 0 {
				exp = fmt.Sprintf(" (exp. %ds ago)", -left)
			} else {
				exp = fmt.Sprintf(" (exp. %ds)", left)
			}
		}
		line := fmt.Sprintf(" %s/%-*.*s  %-26s  %-16s%s", id, width, width, st.Spec.Server, auth, string(st.State), exp)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if n == 0 {
		fmt.Fprintln(w, "\nNo objects found.")
		return
	}
	fmt.Fprintf(w, "\nObjects found: %d\n", n)
}
