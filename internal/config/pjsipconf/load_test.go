package pjsipconf

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/endpoint"
)

func load(t *testing.T, src string) (*Config, []config.Diag) {
	t.Helper()
	c, diags, err := Parse("pjsip.conf", []byte(src), config.WithFS(fstest.MapFS{}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, diags
}

func wantDiags(t *testing.T, diags []config.Diag, want ...string) {
	t.Helper()
	if len(diags) != len(want) {
		t.Errorf("got %d diagnostics, want %d:", len(diags), len(want))
		for _, d := range diags {
			t.Errorf("  %v", d)
		}
		return
	}
	for i, w := range want {
		if !strings.Contains(diags[i].Error(), w) {
			t.Errorf("diagnostic %d = %q, want it to contain %q", i, diags[i].Error(), w)
		}
	}
}

const phones = `
[global]
type=global
user_agent=Office PBX
default_realm=pbx.example.com
endpoint_identifier_order=ip,username

[system]
type=system
timer_t1=400

[transport-udp]
type=transport
protocol=udp
bind=0.0.0.0
external_media_address=203.0.113.9
external_signaling_address=203.0.113.9
local_net=192.168.0.0/16
local_net=10.0.0.0/255.0.0.0,172.16.0.0/12

[transport-tls]
type=transport
protocol=tls
bind=0.0.0.0
cert_file=/etc/asterisk/keys/pbx.crt
priv_key_file=/etc/asterisk/keys/pbx.key
method=tlsv1_2

[transport-wss]
type=transport
protocol=wss
bind=0.0.0.0

[phone](!)
type=endpoint
context=from-internal
disallow=all
allow=ulaw,alaw
allow=opus
transport=transport-udp
rewrite_contact=yes
rtp_symmetric=yes
direct_media=no
dtmf_mode=rfc4733
mailboxes=100@default

[100](phone)
auth=100
aors=100
callerid="Alice" <100>

[100]
type=auth
auth_type=userpass
username=100
password=s3cret
supported_algorithms_uas=SHA-256,MD5

[100]
type=aor
max_contacts=2
remove_existing=yes
qualify_frequency=30
qualify_timeout=1.5
minimum_expiration=120

[trunk]
type=endpoint
context=from-trunk
allow=g722
outbound_auth=trunk-out
aors=trunk
from_user=acct1
from_domain=sip.example.com

[trunk-out]
type=auth
username=acct1
md5_cred=0123456789abcdef0123456789abcdef

[trunk]
type=aor
contact=sip:sip.example.com:5080\;transport=udp
qualify_frequency=60

[trunk]
type=identify
endpoint=trunk
match=198.51.100.0/24,203.0.113.50:5060
match=gw.example.com

[trunk]
type=registration
server_uri=sip:sip.example.com
client_uri=sip:acct1@sip.example.com
outbound_auth=trunk-out
retry_interval=30
line=yes
endpoint=trunk

[alias]
type=domain_alias
domain=pbx.local

[office]
type=acl
deny=0.0.0.0/0.0.0.0
permit=192.168.0.0/255.255.0.0
`

func TestLoadObjects(t *testing.T) {
	c, diags := load(t, phones)
	wantDiags(t, diags)

	g := c.Global
	if g.UserAgent != "Office PBX" || g.DefaultRealm != "pbx.example.com" || !reflect.DeepEqual(g.EndpointIdentifierOrder, []string{"ip", "username"}) || g.MaxForwards != 70 {
		t.Errorf("global: %+v", g)
	}
	if c.System.TimerT1 != 400*time.Millisecond || c.System.TimerB != 32*time.Second {
		t.Errorf("system: %+v", c.System)
	}

	if len(c.Transports) != 3 {
		t.Fatalf("transports: %d", len(c.Transports))
	}
	udp := c.Transport("transport-udp")
	if udp.Protocol != "udp" || udp.Bind != "0.0.0.0:5060" || udp.ExternalMediaAddress != "203.0.113.9" || udp.ExternalSignalingAddress != "203.0.113.9" {
		t.Errorf("udp transport: %+v", udp)
	}
	if len(udp.LocalNets) != 3 || udp.LocalNets[1] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("local nets: %v", udp.LocalNets)
	}
	if tls := c.Transport("transport-tls"); tls.Bind != "0.0.0.0:5061" || tls.CertFile == "" || tls.Method != "tlsv1_2" {
		t.Errorf("tls transport: %+v", tls)
	}
	if wss := c.Transport("transport-wss"); wss.Bind != "0.0.0.0:8089" {
		t.Errorf("wss transport: %+v", wss)
	}

	if len(c.EndpointObjects) != 2 || len(c.Auths) != 2 || len(c.AORs) != 2 || len(c.Identifies) != 1 || len(c.Registrations) != 1 {
		t.Fatalf("counts: %d endpoints %d auths %d aors %d identifies %d registrations",
			len(c.EndpointObjects), len(c.Auths), len(c.AORs), len(c.Identifies), len(c.Registrations))
	}
	e := c.Endpoint("100")
	if e.Context != "from-internal" || !reflect.DeepEqual(e.Allow, []string{"ulaw", "alaw", "opus"}) || e.Transport != "transport-udp" {
		t.Errorf("endpoint 100: %+v", e)
	}
	if !e.RewriteContact || !e.RTPSymmetric || !e.ForceRport || e.DirectMedia || e.DTMFMode != "rfc4733" {
		t.Errorf("endpoint 100 switches: %+v", e)
	}
	if e.Options["mailboxes"] != "100@default" || e.Options["allow"] != "ulaw,alaw,opus" || e.CallerID != `"Alice" <100>` {
		t.Errorf("endpoint 100 options: %v", e.Options)
	}
	if tr := c.Endpoint("trunk"); tr.Context != "from-trunk" || tr.DirectMedia || tr.Rel100 != "yes" || tr.MOHSuggest != "default" || !reflect.DeepEqual(tr.IdentifyBy, []string{"username", "ip"}) {
		t.Errorf("trunk defaults: %+v", tr)
	}

	a := c.Auth("100")
	if a.Username != "100" || a.Password != "s3cret" || !reflect.DeepEqual(a.SupportedAlgorithmsUAS, []string{"SHA-256", "MD5"}) || a.NonceLifetime != 32*time.Second {
		t.Errorf("auth 100: %+v", a)
	}
	if c.Auth("trunk-out").Digests["MD5"] != "0123456789abcdef0123456789abcdef" {
		t.Errorf("md5_cred: %v", c.Auth("trunk-out").Digests)
	}
	aor := c.AOR("100")
	if aor.MaxContacts != 2 || !aor.RemoveExisting || aor.QualifyFrequency != 30*time.Second || aor.QualifyTimeout != 1500*time.Millisecond || aor.MinimumExpiration != 2*time.Minute || aor.MaximumExpiration != 2*time.Hour || aor.DefaultExpiration != time.Hour {
		t.Errorf("aor 100: %+v", aor)
	}
	id := c.Identifies[0]
	wantMatch := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.50/32")}
	if id.Endpoint != "trunk" || !reflect.DeepEqual(id.Match, wantMatch) || !reflect.DeepEqual(id.MatchHosts, []string{"gw.example.com"}) {
		t.Errorf("identify: %+v", id)
	}
	r := c.Registrations[0]
	if r.ServerURI != "sip:sip.example.com" || r.RetryInterval != 30*time.Second || r.Expiration != time.Hour || r.MaxRetries != 10 || !r.Line || !r.AuthRejectionPermanent {
		t.Errorf("registration: %+v", r)
	}
	if len(c.DomainAliases) != 1 || c.DomainAliases[0].Domain != "pbx.local" {
		t.Errorf("domain aliases: %+v", c.DomainAliases)
	}
	if len(c.ACLs) != 1 || len(c.ACLs[0].Rules) != 2 {
		t.Errorf("acls: %+v", c.ACLs)
	}
}

func TestEndpoints(t *testing.T) {
	c, _ := load(t, phones)
	eps := c.Endpoints()
	if len(eps) != 2 {
		t.Fatalf("%d endpoints", len(eps))
	}
	e := eps[0]
	if e.Key() != "PJSIP/100" || e.Type != "friend" || e.Pos.String() != "pjsip.conf:47" || e.Context != "from-internal" {
		t.Errorf("100: %+v", e)
	}
	wantCred := []endpoint.Credential{{Username: "100", Password: "s3cret", Algorithms: []string{"SHA-256", "MD5"}}}
	if !reflect.DeepEqual(e.Credentials, wantCred) {
		t.Errorf("100 credentials: %+v", e.Credentials)
	}
	if !e.Dynamic || e.MaxContacts != 2 || !e.RemoveExisting || e.MinExpiry != 2*time.Minute || e.MaxExpiry != 2*time.Hour || e.DefaultExpiry != time.Hour {
		t.Errorf("100 registration: %+v", e)
	}
	if e.QualifyFrequency != 30*time.Second || e.QualifyTimeout != 1500*time.Millisecond {
		t.Errorf("100 qualify: %v %v", e.QualifyFrequency, e.QualifyTimeout)
	}
	if e.NAT != (endpoint.NAT{ForceRport: true, Comedia: true, RewriteContact: true}) || e.DirectMedia || e.MOH != "default" {
		t.Errorf("100 nat/media: %+v", e)
	}
	if e.Extra["mailboxes"] != "100@default" || e.Extra["auth"] != "" {
		t.Errorf("100 extra: %v", e.Extra)
	}

	tr := eps[1]
	if tr.Dynamic || tr.Host != "sip.example.com" || tr.Port != 5080 || !reflect.DeepEqual(tr.StaticContacts, []string{"sip:sip.example.com:5080;transport=udp"}) {
		t.Errorf("trunk contact: %+v", tr)
	}
	if tr.Credentials != nil {
		t.Errorf("trunk has only outbound auth, got credentials %+v", tr.Credentials)
	}
	if !reflect.DeepEqual(tr.OutboundAuth, []endpoint.Credential{{Username: "acct1", HA1: "0123456789abcdef0123456789abcdef"}}) ||
		tr.Extra["outbound_auth"] != "" || tr.Extra["identify_hosts"] != "gw.example.com" {
		t.Errorf("trunk extra: %v", tr.Extra)
	}
	if tr.QualifyFrequency != time.Minute || tr.QualifyTimeout != 3*time.Second || tr.MaxContacts != 0 || tr.MinExpiry != time.Minute {
		t.Errorf("trunk aor: %+v", tr)
	}
	set := endpoint.NewSet(eps)
	if set.ByAddr(netip.MustParseAddr("198.51.100.7")) != tr || set.ByAddr(netip.MustParseAddr("203.0.113.50")) != tr || set.ByAuthUser("100") != e || set.ByAOR("100") != e {
		t.Error("set lookups")
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name string
		auth string
		want []endpoint.Credential
		diag string
	}{
		{"userpass", "username=u\npassword=p\n", []endpoint.Credential{{Username: "u", Password: "p"}}, ""},
		{"md5", "auth_type=md5\nusername=u\npassword=ignored\nmd5_cred=00112233445566778899AABBCCDDEEFF\n",
			[]endpoint.Credential{{Username: "u", HA1: "00112233445566778899aabbccddeeff"}}, ""},
		{"digest only", "auth_type=digest\nusername=u\npassword_digest=MD5:00112233445566778899aabbccddeeff\nrealm=r\n",
			[]endpoint.Credential{{Username: "u", HA1: "00112233445566778899aabbccddeeff", Realm: "r"}}, ""},
		{"md5 digest caps algorithms", "username=u\nmd5_cred=00112233445566778899aabbccddeeff\nsupported_algorithms_uas=MD5\n",
			[]endpoint.Credential{{Username: "u", HA1: "00112233445566778899aabbccddeeff", Algorithms: []string{"MD5"}}}, ""},
		{"no username locks", "password=p\n", []endpoint.Credential{{Username: "e", HA1: LockedHA1}}, "auth [a] has no username="},
		{"no secret locks", "username=u\n", []endpoint.Credential{{Username: "u", HA1: LockedHA1}}, "neither password= nor a MD5 digest"},
		{"bad md5_cred", "username=u\npassword=p\nmd5_cred=xyz\n", []endpoint.Credential{{Username: "u", Password: "p"}}, "md5_cred: a MD5 digest is 32 hex digits"},
		{"bad algorithm", "username=u\npassword=p\nsupported_algorithms_uas=MD5,SHA-1\n", []endpoint.Credential{{Username: "u", Password: "p"}}, `unknown digest algorithm "SHA-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := load(t, "[e]\ntype=endpoint\nauth=a\n[a]\ntype=auth\n"+tt.auth)
			eps := c.Endpoints()
			if !reflect.DeepEqual(eps[0].Credentials, tt.want) {
				t.Errorf("credentials = %+v, want %+v", eps[0].Credentials, tt.want)
			}
			if tt.diag == "" {
				wantDiags(t, diags)
			} else {
				wantDiags(t, diags, tt.diag)
			}
		})
	}

	t.Run("global algorithms", func(t *testing.T) {
		c, diags := load(t, "[g]\ntype=global\ndefault_auth_algorithms_uas=SHA-256,MD5\n[e]\ntype=endpoint\nauth=a\n[a]\ntype=auth\nusername=u\npassword=p\n")
		wantDiags(t, diags)
		if got := c.Endpoints()[0].Credentials[0].Algorithms; !reflect.DeepEqual(got, []string{"SHA-256", "MD5"}) {
			t.Errorf("algorithms = %v", got)
		}
	})
	t.Run("missing auth locks", func(t *testing.T) {
		c, diags := load(t, "[e]\ntype=endpoint\nauth=nosuch\n")
		wantDiags(t, diags, `pjsip.conf:3: endpoint [e]: auth=nosuch: there is no auth object "nosuch"`)
		if got := c.Endpoints()[0].Credentials; !reflect.DeepEqual(got, []endpoint.Credential{{Username: "e", HA1: LockedHA1}}) {
			t.Errorf("credentials = %+v", got)
		}
	})
}

func TestReferenceWarnings(t *testing.T) {
	_, diags := load(t, `[e]
type=endpoint
auth=a1, a2
outbound_auth=out
aors=x
transport=t
[i]
type=identify
endpoint=ghost
match=10.0.0.1
[r]
type=registration
server_uri=sip:a
client_uri=sip:b@a
outbound_auth=nope
transport=t2
`)
	wantDiags(t, diags,
		`pjsip.conf:3: endpoint [e]: auth=a1: there is no auth object "a1"`,
		`pjsip.conf:3: endpoint [e]: auth=a2`,
		`pjsip.conf:4: endpoint [e]: outbound_auth=out`,
		`pjsip.conf:5: endpoint [e]: aors=x: there is no aor object "x"`,
		`pjsip.conf:6: endpoint [e]: transport=t: there is no transport object "t"`,
		`pjsip.conf:15: registration [r]: outbound_auth=nope`,
		`pjsip.conf:16: registration [r]: transport=t2`,
		`pjsip.conf:9: identify [i]: endpoint=ghost`,
	)
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"[e]\ntype=endpoint\nfrobnicate=yes\n", `pjsip.conf:3: unknown option "frobnicate" for type=endpoint`},
		{"[x]\ntype=gizmo\n", `pjsip.conf:2: unknown type "gizmo"; [x] ignored`},
		{"[e]\ntype=endpoint\ndirect_media=perhaps\n", `direct_media: "perhaps" is not yes or no`},
		{"[e]\ntype=endpoint\ndtmf_mode=rfc2833\n", `dtmf_mode: "rfc2833" is not one of`},
		{"[e]\ntype=endpoint\nallow=ulaw,bogus\n", "allow: unknown codec bogus"},
		{"[a]\ntype=aor\nmax_contacts=-1\n", `max_contacts: "-1" is not a number`},
		{"[a]\ntype=aor\nqualify_timeout=soon\n", "qualify_timeout:"},
		{"[a]\ntype=aor\ncontact=10.0.0.1\n", "contact: 10.0.0.1 is not a sip: or sips: URI"},
		{"[t]\ntype=transport\nprotocol=udp\n", "transport [t] has no bind=; using 0.0.0.0:5060"},
		{"[t]\ntype=transport\nprotocol=sctp\nbind=0.0.0.0\n", `protocol: "sctp" is not one of`},
		{"[i]\ntype=identify\nendpoint=e\n[e]\ntype=endpoint\n", "identify [i] has no match="},
		{"[r]\ntype=registration\nserver_uri=sip:x\n", "registration [r] needs server_uri and client_uri"},
		{"[g1]\ntype=global\n[g2]\ntype=global\n", "pjsip.conf:3: more than one type=global object (first at pjsip.conf:1)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, diags := load(t, tt.src)
			wantDiags(t, diags, tt.want)
		})
	}
}

func TestFatalErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"[transport-udp]\nprotocol=udp\n", "pjsip.conf:1: [transport-udp] has no type="},
		{"[8005]\ntype=endpoint\n[8005]\ntype=auth\n[8005]\ntype=endpoint\n", "pjsip.conf:5: duplicate endpoint object [8005] (first at pjsip.conf:1)"},
		{"[a]\ntype=aor\n[b](nosuch)\ntype=aor\n", `pjsip.conf:3: [b] inherits from "nosuch"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c, _, err := Parse("pjsip.conf", []byte(tt.src), config.WithFS(fstest.MapFS{}))
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			var d *config.Diag
			if !errors.As(err, &d) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Templates need no type=, and the same name may be used by several types.
	if _, diags := load(t, "[tpl](!)\ncontext=x\n[x](tpl)\ntype=endpoint\n[x]\ntype=aor\n"); len(diags) != 0 {
		t.Errorf("diags = %v", diags)
	}
}

func TestParseMatch(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3":               "10.1.2.3/32",
		"10.1.2.0/24":            "10.1.2.0/24",
		"10.1.2.0/255.255.255.0": "10.1.2.0/24",
		"10.1.2.3:5060":          "10.1.2.3/32",
		"[2001:db8::1]:5060":     "2001:db8::1/128",
		"2001:db8::/32":          "2001:db8::/32",
		"sip.example.com":        "host sip.example.com",
		"sip.example.com:5060":   "host sip.example.com",
	} {
		p, host, err := parseMatch(in)
		got := p.String()
		if host != "" {
			got = "host " + host
		}
		if err != nil || got != want {
			t.Errorf("parseMatch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, _, err := parseMatch("10.0.0.0/99"); err == nil {
		t.Error("bad mask accepted")
	}
}
