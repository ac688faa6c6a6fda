package trunk

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// Lookup resolves a host name (net.Resolver.LookupNetIP bound to "ip").
type Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

// ResolveIdentify adds the addresses of trunk host names to the endpoints
// they identify, so a provider named by DNS is recognised by its source
// address like one named by IP: pjsip identify match=<host> and sip.conf
// host=<name> with insecure=port. Asterisk resolves these when it loads
// the configuration too (chan_sip's dnsmgr refreshes later; gopbx does on
// reload). Names that do not resolve before ctx ends are left out and
// returned, for the caller to log. set itself is not modified.
func ResolveIdentify(ctx context.Context, set *endpoint.Set, lookup Lookup) (*endpoint.Set, []string) {
	var failed []string
	changed := false
	all := set.All()
	out := make([]*endpoint.Endpoint, 0, len(all))
	for _, ep := range all {
		hosts := identifyHosts(ep)
		if len(hosts) == 0 {
			out = append(out, ep)
			continue
		}
		var add []netip.Prefix
		for _, h := range hosts {
			addrs, err := lookup(ctx, h)
			if err != nil || len(addrs) == 0 {
				failed = append(failed, h)
				continue
			}
			for _, a := range addrs {
				a = a.Unmap()
				if p := netip.PrefixFrom(a, a.BitLen()); !slices.Contains(ep.Identify, p) && !slices.Contains(add, p) {
					add = append(add, p)
				}
			}
		}
		if len(add) == 0 {
			out = append(out, ep)
			continue
		}
		cp := *ep
		cp.Identify = append(slices.Clone(ep.Identify), add...)
		out = append(out, &cp)
		changed = true
	}
	if !changed {
		return set, failed
	}
	return endpoint.NewSet(inDeclarationOrder(out, set)), failed
}

// identifyHosts are the names ep is identified by.
func identifyHosts(ep *endpoint.Endpoint) []string {
	var hosts []string
	if v := ep.Extra["identify_hosts"]; v != "" {
		hosts = strings.Split(v, ",")
	}
	if ep.Tech == endpoint.TechSIP && ep.Host != "" && slices.Contains(ep.Insecure, "port") {
		if _, err := netip.ParseAddr(ep.Host); err != nil {
			hosts = append(hosts, ep.Host)
		}
	}
	return hosts
}

// inDeclarationOrder restores the order NewSet was first given (pjsip
// before sip.conf), which decides who wins a shared AOR or user name;
// All() is sorted by name instead.
func inDeclarationOrder(eps []*endpoint.Endpoint, set *endpoint.Set) []*endpoint.Endpoint {
	slices.SortStableFunc(eps, func(a, b *endpoint.Endpoint) int {
		// pjsip endpoints were indexed first.
		rank := func(e *endpoint.Endpoint) int {
			if e.Tech == endpoint.TechPJSIP {
				return 0
			}
			return 1
		}
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return compareDecl(a, b)
	})
	return eps
}

// compareDecl orders endpoints of one file by where they were declared.
func compareDecl(a, b *endpoint.Endpoint) int {
	if a.Pos.File != b.Pos.File {
		return strings.Compare(a.Pos.File, b.Pos.File)
	}
	return a.Pos.Line - b.Pos.Line
}
