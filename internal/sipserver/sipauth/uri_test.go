package sipauth

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestURIMatches(t *testing.T) {
	tests := []struct {
		ruri, uri string
		want      bool
	}{
		{"sip:pbx.example.com", "sip:pbx.example.com", true},
		{"sip:pbx.example.com", "  sip:pbx.example.com ", true},
		{"sip:pbx.example.com", "SIP:PBX.Example.COM", true},
		{"sip:pbx.example.com", "sips:pbx.example.com", false},
		{"sip:pbx.example.com", "sip:pbx.example.org", false},
		{"sip:pbx.example.com", "sip:pbx.example.com:5060", false},
		{"sip:pbx.example.com:5070", "sip:pbx.example.com:5070", true},
		{"sip:pbx.example.com:5070", "sip:pbx.example.com:5071", false},
		{"sip:100@pbx.example.com", "sip:100@pbx.example.com", true},
		{"sip:100@pbx.example.com", "sip:101@pbx.example.com", false},
		{"sip:100@pbx.example.com", "sip:pbx.example.com", false},
		{"sip:100:pw@pbx.example.com", "sip:100:pw@pbx.example.com", true},
		{"sip:100:pw@pbx.example.com", "sip:100:px@pbx.example.com", false},
		{"sip:alice;day=tue@pbx.example.com", "sip:alice;day=tue@pbx.example.com", true},
		{"sip:100@192.0.2.1;transport=tcp;lr", "sip:100@192.0.2.1;lr;TRANSPORT=TCP", true},
		{"sip:100@192.0.2.1;transport=tcp", "sip:100@192.0.2.1", false},
		{"sip:100@192.0.2.1", "sip:100@192.0.2.1;transport=tcp", false},
		{"sip:100@192.0.2.1;transport=tcp", "sip:100@192.0.2.1;transport=udp", false},
		{"sip:100@192.0.2.1?subject=x", "sip:100@192.0.2.1?subject=x", true},
		{"sip:100@192.0.2.1?subject=x", "sip:100@192.0.2.1", false},
		{"sip:100@[2001:db8::1]", "sip:100@[2001:DB8::1]", true},
		{"sip:100@[2001:db8::1]:5062", "sip:100@[2001:db8::1]:5062", true},
		{"sip:100@[2001:db8::1]:5062", "sip:100@[2001:db8::1]", false},
		{"sip:[2001:db8::1];transport=tcp", "sip:[2001:db8::1];transport=tcp", true},
		{"tel:+15551234", "tel:+15551234", true},
		{"tel:+15551234", "tel:+15551235", false},
		{"sip:pbx.example.com", "pbx.example.com", false},
		{"sip:pbx.example.com", "", false},
		{"sip:pbx.example.com", "sip:", false},
		{"sip:pbx.example.com", "sip:pbx.example.com:abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.ruri+" vs "+tt.uri, func(t *testing.T) {
			var u sip.Uri
			if err := sip.ParseUri(tt.ruri, &u); err != nil {
				t.Fatalf("ParseUri(%q): %v", tt.ruri, err)
			}
			if got := uriMatches(&u, tt.uri); got != tt.want {
				t.Errorf("uriMatches = %v, want %v", got, tt.want)
			}
		})
	}
}
