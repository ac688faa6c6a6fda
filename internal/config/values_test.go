package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestBools(t *testing.T) {
	for _, s := range []string{"yes", "YES", "true", "y", "t", "1", "on", " On "} {
		if !IsTrue(s) || IsFalse(s) {
			t.Errorf("%q should be true", s)
		}
	}
	for _, s := range []string{"no", "false", "n", "f", "0", "off", "OFF"} {
		if IsTrue(s) || !IsFalse(s) {
			t.Errorf("%q should be false", s)
		}
	}
	for _, s := range []string{"", "maybe", "2"} {
		if IsTrue(s) || IsFalse(s) {
			t.Errorf("%q should be neither", s)
		}
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q) succeeded", s)
		}
	}
}

func TestSplitList(t *testing.T) {
	if got := strings.Join(SplitList(" a, b ,,c,"), "|"); got != "a|b|c" {
		t.Errorf("got %q", got)
	}
	if SplitList("  ") != nil {
		t.Error("blank list not empty")
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"192.168.1.22", "192.168.1.22/32"},
		{"192.168.0.0/16", "192.168.0.0/16"},
		{"192.168.1.7/24", "192.168.1.0/24"},
		{"10.0.0.0/255.0.0.0", "10.0.0.0/8"},
		{"0.0.0.0/0.0.0.0", "0.0.0.0/0"},
		{"172.16.0.0/255.240.0.0", "172.16.0.0/12"},
		{"::1", "::1/128"},
		{"[fe80::1]/10", "fe80::/10"},
		{"::ffff:10.1.2.3", "10.1.2.3/32"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePrefix(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tt.want {
				t.Errorf("got %v, want %s", p, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "host.example.com", "10.0.0.0/33", "10.0.0.0/255.0.255.0", "10.0.0.0/ffff::", "1.2.3.4/x"} {
		if _, err := ParsePrefix(bad); err == nil {
			t.Errorf("ParsePrefix(%q) succeeded", bad)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		err  bool
	}{
		{"1.2.3.4", "1.2.3.4", 0, false},
		{"1.2.3.4:5061", "1.2.3.4", 5061, false},
		{"sip.example.com:5080", "sip.example.com", 5080, false},
		{"[::1]:5060", "::1", 5060, false},
		{"[::1]", "::1", 0, false},
		{"fe80::1", "fe80::1", 0, false},
		{"host:99999", "", 0, true},
		{"[::1", "", 0, true},
		{"", "", 0, true},
	}
	for _, tt := range tests {
		h, p, err := SplitHostPort(tt.in)
		if (err != nil) != tt.err || h != tt.host || p != tt.port {
			t.Errorf("SplitHostPort(%q) = %q, %d, %v", tt.in, h, p, err)
		}
	}
	if got := JoinHostPort("::1", 5060); got != "[::1]:5060" {
		t.Errorf("JoinHostPort = %q", got)
	}
}

func TestACL(t *testing.T) {
	var rules []ACLRule
	for _, line := range []struct {
		permit bool
		v      string
	}{
		{false, "0.0.0.0/0.0.0.0"},
		{true, "192.168.1.0/255.255.255.0, 10.0.0.1"},
		{true, "!192.168.1.13"},
	} {
		r, err := ParseACL(line.permit, line.v)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r...)
	}
	for addr, want := range map[string]bool{
		"192.168.1.5":  true,
		"192.168.1.13": false,
		"10.0.0.1":     true,
		"8.8.8.8":      false,
	} {
		if got := Allowed(rules, netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allowed(%s) = %v", addr, got)
		}
	}
	if !Allowed(nil, netip.MustParseAddr("1.1.1.1")) {
		t.Error("no rules should allow")
	}
	if _, err := ParseACL(true, "nonsense"); err == nil {
		t.Error("bad ACL accepted")
	}
}

func TestApplyCodecs(t *testing.T) {
	type step struct {
		allow bool
		value string
	}
	tests := []struct {
		name    string
		start   []string
		steps   []step
		want    string
		unknown string
	}{
		{"allow in order", nil, []step{{true, "ulaw"}, {true, "alaw,gsm"}}, "ulaw,alaw,gsm", ""},
		{"no duplicates", []string{"ulaw"}, []step{{true, "ulaw"}, {true, "alaw"}}, "ulaw,alaw", ""},
		{"disallow all", []string{"ulaw", "gsm"}, []step{{false, "all"}, {true, "g722"}}, "g722", ""},
		{"disallow one", []string{"ulaw", "alaw", "gsm"}, []step{{false, "alaw"}}, "ulaw,gsm", ""},
		{"framing and case", nil, []step{{true, "ULAW:20|alaw&g729"}}, "ulaw,alaw,g729", ""},
		{"negation", []string{"ulaw", "alaw"}, []step{{true, "!all,opus"}}, "opus", ""},
		{"unknown", nil, []step{{true, "ulaw,foo"}}, "ulaw", "foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := tt.start
			var unknown []string
			for _, s := range tt.steps {
				var u []string
				list, u = ApplyCodecs(list, s.value, s.allow)
				unknown = append(unknown, u...)
			}
			if got := strings.Join(list, ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := strings.Join(unknown, ","); got != tt.unknown {
				t.Errorf("unknown = %q, want %q", got, tt.unknown)
			}
		})
	}
	t.Run("allow all", func(t *testing.T) {
		list, _ := ApplyCodecs([]string{"opus"}, "all", true)
		if list[0] != "opus" || len(list) != len(knownCodecs) {
			t.Errorf("got %v", list)
		}
	})
	t.Run("does not alias the input", func(t *testing.T) {
		base := make([]string, 1, 4)
		base[0] = "ulaw"
		a, _ := ApplyCodecs(base, "alaw", true)
		b, _ := ApplyCodecs(base, "gsm", true)
		if a[1] != "alaw" || b[1] != "gsm" {
			t.Errorf("aliasing: %v %v", a, b)
		}
	})
}
