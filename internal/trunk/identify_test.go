package trunk

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

func TestResolveIdentify(t *testing.T) {
	cfg := load(t, map[string]string{
		"sip.conf": `[general]
bindaddr=127.0.0.1

[byname]
type=peer
host=sip.provider.example
insecure=port,invite
context=from-provider

[checked]
type=peer
host=other.example
insecure=invite
context=from-provider
`,
		"pjsip.conf": `[t]
type=transport
protocol=udp
bind=127.0.0.1:5062

[pj]
type=endpoint
context=from-provider
[pj]
type=identify
endpoint=pj
match=gw.second.example,192.0.2.7
[pj]
type=aor
contact=sip:gw.second.example
`,
	})
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "sip.provider.example":
			return []netip.Addr{netip.MustParseAddr("198.51.100.1")}, nil
		case "gw.second.example":
			return []netip.Addr{netip.MustParseAddr("::ffff:198.51.100.2"), netip.MustParseAddr("2001:db8::2")}, nil
		}
		return nil, errors.New("nxdomain")
	}
	set, failed := ResolveIdentify(context.Background(), cfg.Endpoints, lookup)
	if len(failed) != 0 {
		t.Errorf("failed: %v", failed)
	}
	for _, c := range []struct{ addr, want string }{
		{"198.51.100.1", "SIP/byname"},
		{"198.51.100.2", "PJSIP/pj"},
		{"2001:db8::2", "PJSIP/pj"},
		{"192.0.2.7", "PJSIP/pj"},
		{"198.51.100.9", ""},
	} {
		got := ""
		if ep := set.ByAddr(netip.MustParseAddr(c.addr)); ep != nil {
			got = ep.Key()
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.addr, got, c.want)
		}
	}
	// insecure=invite without port: chan_sip wants address and port, so a
	// name is not an identity on its own.
	if ep := set.Get("SIP", "checked"); len(ep.Identify) != 0 {
		t.Errorf("checked: %v", ep.Identify)
	}
	if ep := cfg.Endpoints.Get("SIP", "byname"); len(ep.Identify) != 0 {
		t.Errorf("the loaded set was modified: %v", ep.Identify)
	}
	if _, failed := ResolveIdentify(context.Background(), cfg.Endpoints, func(context.Context, string) ([]netip.Addr, error) {
		return nil, errors.New("down")
	}); len(failed) != 2 {
		t.Errorf("failed: %v", failed)
	}
}
