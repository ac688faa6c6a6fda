package sipconf

import (
	"strings"
	"testing"
	"time"
)

func TestParseRegister(t *testing.T) {
	// Cases 1-8 and 13-14 are chan_sip's own sip_parse_register_line_test.
	tests := []struct {
		in   string
		want Register
	}{
		{"name@domain", Register{User: "name", Host: "domain", Port: 5060, Transport: "udp", Extension: "s"}},
		{"name:pass@domain", Register{User: "name", Secret: "pass", Host: "domain", Port: 5060, Transport: "udp", Extension: "s"}},
		{"name@namedomain:pass:authuser@domain", Register{User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 5060, Transport: "udp", Extension: "s"}},
		{"name@namedomain:pass:authuser@domain/extension", Register{User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 5060, Transport: "udp", Extension: "extension"}},
		{"tcp://name@namedomain:pass:authuser@domain/extension", Register{User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 5060, Transport: "tcp", Extension: "extension"}},
		{"tls://name@namedomain:pass:authuser@domain/extension~111", Register{User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 5061, Transport: "tls", Extension: "extension", Expiry: 111 * time.Second}},
		{"peer?tcp://name@namedomain:pass:authuser@domain:1234/extension~111", Register{Peer: "peer", User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 1234, Transport: "tcp", Extension: "extension", Expiry: 111 * time.Second}},
		{"peer?name@namedomain:pass:authuser@domain:1234/extension~111", Register{Peer: "peer", User: "name", Domain: "namedomain", Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 1234, Transport: "udp", Extension: "extension", Expiry: 111 * time.Second}},
		{"name@namedomain:4321:pass:authuser@domain", Register{User: "name", Domain: "namedomain", DomainPort: 4321, Secret: "pass", AuthUser: "authuser", Host: "domain", Port: 5060, Transport: "udp", Extension: "s"}},
		{"name@namedomain:4321::@domain", Register{User: "name", Domain: "namedomain", DomainPort: 4321, Host: "domain", Port: 5060, Transport: "udp", Extension: "s"}},
		// The seeds.
		{"AST22:123456@192.168.1.22", Register{User: "AST22", Secret: "123456", Host: "192.168.1.22", Port: 5060, Transport: "udp", Extension: "s"}},
		{"199:199pass@192.168.1.1/ast_provider_reg", Register{User: "199", Secret: "199pass", Host: "192.168.1.1", Port: 5060, Transport: "udp", Extension: "ast_provider_reg"}},
		// More.
		{" user:se\"cret@sip.example.com:5080 ", Register{User: "user", Secret: "se\"cret", Host: "sip.example.com", Port: 5080, Transport: "udp", Extension: "s"}},
		{"\"quoted\":\"pw\"@host", Register{User: "quoted", Secret: "pw", Host: "host", Port: 5060, Transport: "udp", Extension: "s"}},
		{"user::auth@host", Register{User: "user", AuthUser: "auth", Host: "host", Port: 5060, Transport: "udp", Extension: "s"}},
		{"user:p@ss@host", Register{User: "user", Secret: "p@ss", Host: "host", Port: 5060, Transport: "udp", Extension: "s"}},
		{"user@[2001:db8::1]:5070", Register{User: "user", Host: "2001:db8::1", Port: 5070, Transport: "udp", Extension: "s"}},
		{"TCP://user@host", Register{User: "user", Host: "host", Port: 5060, Transport: "tcp", Extension: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRegister(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = tt.in
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRegisterErrors(t *testing.T) {
	for _, in := range []string{
		"peer?name:pass:authuser:1234/extension~111", // chan_sip test 9: no host
		"@domin:1234", // chan_sip test 10: no user
		"", "user@", "a/b@host", "udp:/x/user@host",
		"sctp://user@host", "user@host:99999", "user@host:x", "user@host~soon",
		"user@namedomain:0:pass:auth@host", "user@[::1:5060",
	} {
		t.Run(in, func(t *testing.T) {
			if r, err := ParseRegister(in); err == nil {
				t.Errorf("accepted: %+v", r)
			} else if !strings.HasPrefix(err.Error(), "sipconf: register") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestRegisterString(t *testing.T) {
	for _, in := range []string{
		"AST22:123456@192.168.1.22:5060",
		"peer?tcp://name@namedomain:4321:pass:authuser@domain:1234/extension~111",
		"tls://u@h:5061",
	} {
		r, err := ParseRegister(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRegister(r.String())
		if err != nil {
			t.Fatalf("%s: reparse %q: %v", in, r.String(), err)
		}
		back.Raw = r.Raw
		if back != r {
			t.Errorf("round trip of %q via %q: %+v != %+v", in, r.String(), back, r)
		}
	}
}
