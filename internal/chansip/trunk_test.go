package chansip

import (
	"testing"

	"github.com/gopbx/gopbx/internal/endpoint"
)

func TestOutboundCredentials(t *testing.T) {
	tests := []struct {
		name       string
		ep         *endpoint.Endpoint
		user, pass string
	}{
		{"none", nil, "", ""},
		{"outbound auth first", &endpoint.Endpoint{
			OutboundAuth: []endpoint.Credential{{Username: "acct1", Password: "pw"}},
			Credentials:  []endpoint.Credential{{Username: "gw", Password: "in"}},
		}, "acct1", "pw"},
		{"HA1-only outbound auth is skipped", &endpoint.Endpoint{
			OutboundAuth: []endpoint.Credential{{Username: "acct1", HA1: "0123"}},
			Credentials:  []endpoint.Credential{{Username: "gw", Password: "in"}},
		}, "gw", "in"},
		{"inbound credential", &endpoint.Endpoint{Credentials: []endpoint.Credential{{Username: "gw", Password: "in"}}}, "gw", "in"},
		{"nothing usable", &endpoint.Endpoint{Credentials: []endpoint.Credential{{Username: "gw", HA1: "x"}}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p := outboundCredentials(tt.ep)
			if u != tt.user || p != tt.pass {
				t.Errorf("got %q/%q, want %q/%q", u, p, tt.user, tt.pass)
			}
		})
	}
}
