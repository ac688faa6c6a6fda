package chansip

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// viaProxy sends an outbound leg to the endpoint's outbound proxy
// (sip.conf outboundproxy=, pjsip outbound_proxy=) instead of its host;
// the Request-URI stays the endpoint's.
func (d *Driver) viaProxy(tg target, proxy string) (target, error) {
	hp := strings.Trim(strings.TrimSpace(proxy), "<>")
	if strings.HasPrefix(strings.ToLower(hp), "sip:") {
		var u sip.Uri
		if err := sip.ParseUri(hp, &u); err == nil {
			hp = u.Host
			if u.Port != 0 {
				hp = net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
			}
		}
	} else if i := strings.IndexAny(hp, ";,"); i >= 0 {
		hp = hp[:i]
	}
	p, err := d.hostTarget(hp, "")
	if err != nil {
		return tg, wrap("outbound proxy %q: %w", proxy, err)
	}
	tg.dest = p.dest
	if tg.local == "" && tg.transport == "UDP" {
		tg.local = p.local
	}
	return tg, nil
}

// outboundCredentials are what an outbound leg answers the endpoint's
// 401/407 with: its outbound auth (pjsip outbound_auth=, sip.conf
// defaultuser + remotesecret/secret), else its first inbound credential,
// which is how sip.conf friends have always worked.
func outboundCredentials(ep *endpoint.Endpoint) (user, pass string) {
	if ep == nil {
		return "", ""
	}
	for _, c := range ep.OutboundAuth {
		if c.Password != "" {
			return c.Username, c.Password
		}
	}
	if len(ep.Credentials) > 0 && ep.Credentials[0].Password != "" {
		return ep.Credentials[0].Username, ep.Credentials[0].Password
	}
	return "", ""
}
