package sipconf

import (
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
	c, diags, err := Parse("sip.conf", []byte(src), config.WithFS(fstest.MapFS{}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, diags
}

func wantNoDiags(t *testing.T, diags []config.Diag) {
	t.Helper()
	for _, d := range diags {
		t.Errorf("unexpected diagnostic: %v", d)
	}
}

func TestGeneralDefaults(t *testing.T) {
	c, diags := load(t, "")
	wantNoDiags(t, diags)
	g := c.General
	checks := []struct {
		name      string
		got, want any
	}{
		{"context", g.Context, "default"},
		{"allowguest", g.AllowGuest, false},
		{"alwaysauthreject", g.AlwaysAuthReject, true},
		{"udp", g.UDPBindAddr, "0.0.0.0:5060"},
		{"tcp", g.TCPBindAddr, ""},
		{"tls", g.TLSBindAddr, ""},
		{"useragent", g.UserAgent, "gopbx"},
		{"realm", g.Realm, "asterisk"},
		{"minexpiry", g.MinExpiry, 60 * time.Second},
		{"maxexpiry", g.MaxExpiry, 3600 * time.Second},
		{"defaultexpiry", g.DefaultExpiry, 120 * time.Second},
		{"qualifyfreq", g.QualifyFreq, 60 * time.Second},
		{"srvlookup", g.SRVLookup, true},
		{"peer nat", g.PeerDefaults.NAT, NAT{AutoForceRport: true}},
		{"peer dtmf", g.PeerDefaults.DTMFMode, "rfc2833"},
		{"peer allow", g.PeerDefaults.Allow, []string{"ulaw", "alaw", "gsm", "h263"}},
		{"peer directmedia", g.PeerDefaults.DirectMedia, false},
		{"peer qualify", g.PeerDefaults.Qualify, time.Duration(0)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestGeneral(t *testing.T) {
	c, diags := load(t, `[general]
context=from-sip
allowguest=yes
alwaysauthreject=no
bindaddr=192.168.1.10:5070
bindport=5080
tcpenable=yes
tlsenable=yes
tlsbindaddr=0.0.0.0
tlscertfile=/etc/asterisk/keys/asterisk.pem
tlsprivatekey=/etc/asterisk/keys/asterisk.key
externaddr=203.0.113.5:5080
localnet=192.168.0.0/255.255.0.0
localnet=10.0.0.0/8,172.16.0.0/12
useragent=MyPBX
realm=example.com
minexpiry=30
maxexpiry=7200
defaultexpiry=600
qualify=3000
qualifyfreq=30
srvlookup=no
nat=force_rport,comedia
disallow=all
allow=alaw,g722
register => tcp://trunk:pw@sip.example.com/100
register => bad
register => other@host~60
`)
	g := c.General
	if g.Context != "from-sip" || !g.AllowGuest || g.AlwaysAuthReject {
		t.Errorf("context/allowguest/alwaysauthreject: %q %v %v", g.Context, g.AllowGuest, g.AlwaysAuthReject)
	}
	if g.UDPBindAddr != "192.168.1.10:5080" || g.TCPBindAddr != "192.168.1.10:5080" || g.TLSBindAddr != "0.0.0.0:5061" {
		t.Errorf("binds: udp %s tcp %s tls %s", g.UDPBindAddr, g.TCPBindAddr, g.TLSBindAddr)
	}
	if g.TLSCertFile == "" || g.TLSPrivKey == "" {
		t.Error("tls files not kept")
	}
	if g.ExternAddr != "203.0.113.5:5080" {
		t.Errorf("externaddr = %q", g.ExternAddr)
	}
	wantNets := []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12")}
	if !reflect.DeepEqual(g.LocalNets, wantNets) {
		t.Errorf("localnets = %v", g.LocalNets)
	}
	if g.UserAgent != "MyPBX" || g.Realm != "example.com" {
		t.Errorf("useragent/realm %q %q", g.UserAgent, g.Realm)
	}
	if g.MinExpiry != 30*time.Second || g.MaxExpiry != 2*time.Hour || g.DefaultExpiry != 10*time.Minute {
		t.Errorf("expiries %v %v %v", g.MinExpiry, g.MaxExpiry, g.DefaultExpiry)
	}
	if g.QualifyFreq != 30*time.Second || g.PeerDefaults.Qualify != 3*time.Second || g.SRVLookup {
		t.Errorf("qualify %v %v srv %v", g.QualifyFreq, g.PeerDefaults.Qualify, g.SRVLookup)
	}
	if g.PeerDefaults.NAT != (NAT{ForceRport: true, Comedia: true}) {
		t.Errorf("nat = %v", g.PeerDefaults.NAT)
	}
	if !reflect.DeepEqual(g.PeerDefaults.Allow, []string{"alaw", "g722"}) {
		t.Errorf("allow = %v", g.PeerDefaults.Allow)
	}
	if len(g.Registers) != 2 {
		t.Fatalf("registers = %+v", g.Registers)
	}
	r := g.Registers[0]
	if r.Transport != "tcp" || r.User != "trunk" || r.Secret != "pw" || r.Host != "sip.example.com" || r.Extension != "100" || r.Expiry != 600*time.Second || r.Pos.Line != 26 {
		t.Errorf("register 0 = %+v", r)
	}
	if g.Registers[1].Expiry != time.Minute {
		t.Errorf("register 1 expiry = %v", g.Registers[1].Expiry)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Error(), "sip.conf:27: sipconf: register \"bad\"") {
		t.Errorf("diags = %v", diags)
	}
	if g.Options["localnet"] != "192.168.0.0/255.255.0.0,10.0.0.0/8,172.16.0.0/12" {
		t.Errorf("raw localnet = %q", g.Options["localnet"])
	}
}

func TestBindAddrVariants(t *testing.T) {
	tests := []struct {
		src, udp, tcp string
	}{
		{"bindaddr=0.0.0.0\n", "0.0.0.0:5060", ""},
		{"udpbindaddr=127.0.0.1:5090\n", "127.0.0.1:5090", ""},
		{"bindport=5061\ntcpenable=yes\n", "0.0.0.0:5061", "0.0.0.0:5061"},
		{"tcpenable=yes\ntcpbindaddr=10.0.0.1\n", "0.0.0.0:5060", "10.0.0.1:5060"},
		{"bindaddr=::\n", "[::]:5060", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, diags := load(t, "[general]\n"+tt.src)
			wantNoDiags(t, diags)
			if c.General.UDPBindAddr != tt.udp || c.General.TCPBindAddr != tt.tcp {
				t.Errorf("udp %q tcp %q", c.General.UDPBindAddr, c.General.TCPBindAddr)
			}
		})
	}
}

func TestPeerOptions(t *testing.T) {
	c, diags := load(t, `[general]
context=internal
qualify=1500
language=fr

[phones](!)
type=friend
host=dynamic
nat=force_rport,comedia
disallow=all
allow=ulaw
allow=alaw
qualify=yes
dtmfmode=info
mailbox=100@default

[100](phones)
secret=s100
callerid="Alice" <100>
call-limit=2
mohsuggest=jazz

[gw]
type=peer
host=10.1.2.3
port=5070
insecure=port,invite
qualify=250
qualifyfreq=15
canreinvite=no
transport=tcp,udp
md5secret=0123456789ABCDEF0123456789abcdef
fromuser=pbx
fromdomain=example.net
deny=0.0.0.0/0.0.0.0
permit=10.1.2.0/255.255.255.0
context=from-gw

[u1]
type=user
secret=x
host=10.9.9.9
`)
	wantNoDiags(t, diags)
	if len(c.Peers) != 3 {
		t.Fatalf("peers: %d", len(c.Peers))
	}
	p := c.Peer("100")
	if p.Type != "friend" || !p.Dynamic || p.Host != "" || p.Context != "internal" || p.Language != "fr" {
		t.Errorf("100: %+v", p)
	}
	if p.NAT != (NAT{ForceRport: true, Comedia: true}) || p.Qualify != 1500*time.Millisecond || p.QualifyFreq != 60*time.Second {
		t.Errorf("100 nat/qualify: %v %v %v", p.NAT, p.Qualify, p.QualifyFreq)
	}
	if !reflect.DeepEqual(p.Allow, []string{"ulaw", "alaw"}) || p.DTMFMode != "info" || p.CallLimit != 2 || p.MOHSuggest != "jazz" {
		t.Errorf("100 media: %v %q %d %q", p.Allow, p.DTMFMode, p.CallLimit, p.MOHSuggest)
	}
	if p.Options["mailbox"] != "100@default" || p.Options["secret"] != "s100" {
		t.Errorf("100 options: %v", p.Options)
	}
	gw := c.Peer("gw")
	if gw.Dynamic || gw.Host != "10.1.2.3" || gw.Port != 5070 || !reflect.DeepEqual(gw.Insecure, []string{"port", "invite"}) {
		t.Errorf("gw host: %+v", gw)
	}
	if gw.Qualify != 250*time.Millisecond || gw.QualifyFreq != 15*time.Second || gw.DirectMedia {
		t.Errorf("gw qualify/directmedia: %v %v %v", gw.Qualify, gw.QualifyFreq, gw.DirectMedia)
	}
	if !reflect.DeepEqual(gw.Transports, []string{"tcp", "udp"}) || gw.MD5Secret != "0123456789abcdef0123456789abcdef" {
		t.Errorf("gw transports/md5: %v %q", gw.Transports, gw.MD5Secret)
	}
	if len(gw.ACL) != 2 || config.Allowed(gw.ACL, netip.MustParseAddr("8.8.8.8")) || !config.Allowed(gw.ACL, netip.MustParseAddr("10.1.2.9")) {
		t.Errorf("gw acl: %v", gw.ACL)
	}
	// Defaults are copied, not shared.
	gw.Allow[0] = "changed"
	if c.General.PeerDefaults.Allow[0] == "changed" || c.Peer("u1").Allow[0] == "changed" {
		t.Error("peers share the default codec slice")
	}
}

func TestPeerValues(t *testing.T) {
	tests := []struct {
		opt   string
		check func(p *Peer) bool
		warn  string
	}{
		{"nat=no", func(p *Peer) bool { return p.NAT == NAT{} }, ""},
		{"nat=yes", func(p *Peer) bool { return p.NAT == NAT{ForceRport: true, Comedia: true} }, "nat=yes is deprecated"},
		{"nat=force_rport", func(p *Peer) bool { return p.NAT == NAT{ForceRport: true} }, ""},
		{"nat=comedia", func(p *Peer) bool { return p.NAT == NAT{Comedia: true} }, ""},
		{"nat=auto_force_rport,auto_comedia", func(p *Peer) bool { return p.NAT == NAT{AutoForceRport: true, AutoComedia: true} }, ""},
		{"nat=force_rport,auto_force_rport", func(p *Peer) bool { return p.NAT == NAT{AutoForceRport: true} }, ""},
		{"nat=auto_force_rport,force_rport", func(p *Peer) bool { return p.NAT == NAT{AutoForceRport: true} }, ""},
		{"nat=force_rport,auto_comedia", func(p *Peer) bool { return p.NAT == NAT{ForceRport: true, AutoComedia: true} }, ""},
		{"nat=force_rport,yes,no", func(p *Peer) bool { return p.NAT == NAT{ForceRport: true, Comedia: true} }, "deprecated"},
		{"nat=auto_comedia,no,yes", func(p *Peer) bool { return p.NAT == NAT{} }, ""},
		{"nat=sometimes", func(p *Peer) bool { return true }, `nat: unknown mode "sometimes"`},
		{"insecure=very", func(p *Peer) bool { return reflect.DeepEqual(p.Insecure, []string{"port", "invite"}) }, "insecure=very is deprecated"},
		{"insecure=yes", func(p *Peer) bool { return reflect.DeepEqual(p.Insecure, []string{"port"}) }, "insecure=yes is deprecated"},
		{"insecure=invite", func(p *Peer) bool { return reflect.DeepEqual(p.Insecure, []string{"invite"}) }, ""},
		{"insecure=no", func(p *Peer) bool { return p.Insecure == nil }, ""},
		{"qualify=yes", func(p *Peer) bool { return p.Qualify == 2*time.Second }, ""},
		{"qualify=no", func(p *Peer) bool { return p.Qualify == 0 }, ""},
		{"qualify=0", func(p *Peer) bool { return p.Qualify == 0 }, ""},
		{"qualify=500", func(p *Peer) bool { return p.Qualify == 500*time.Millisecond }, ""},
		{"qualify=often", func(p *Peer) bool { return p.Qualify == 0 }, "qualify: want yes, no or a number"},
		{"dtmfmode=RFC2833", func(p *Peer) bool { return p.DTMFMode == "rfc2833" }, ""},
		{"dtmfmode=beeps", func(p *Peer) bool { return p.DTMFMode == "rfc2833" }, "unknown mode"},
		{"directmedia=nonat", func(p *Peer) bool { return p.DirectMedia }, ""},
		{"directmedia=no", func(p *Peer) bool { return !p.DirectMedia }, ""},
		{"host=sip.example.com:5080", func(p *Peer) bool { return p.Host == "sip.example.com" && p.Port == 5080 && !p.Dynamic }, ""},
		{"host=Dynamic", func(p *Peer) bool { return p.Dynamic }, ""},
		{"port=70000", func(p *Peer) bool { return p.Port == 0 }, "port:"},
		{"allow=ulaw,nosuch", func(p *Peer) bool { return p.Allow[0] == "ulaw" }, "unknown codec nosuch"},
		{"transport=udp,sctp", func(p *Peer) bool { return reflect.DeepEqual(p.Transports, []string{"udp"}) }, "unknown transport"},
		{"call-limit=-3", func(p *Peer) bool { return p.CallLimit == 0 }, ""},
		{"username=bob", func(p *Peer) bool { return p.Username == "bob" && p.DefaultUser == "bob" }, ""},
		{"defaultuser=bob", func(p *Peer) bool { return p.Username == "" && p.DefaultUser == "bob" }, ""},
		{"frobnicate=1", func(p *Peer) bool { return p.Options["frobnicate"] == "" }, `sip.conf:3: unknown option "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.opt, func(t *testing.T) {
			c, diags := load(t, "[p]\ntype=friend\n"+tt.opt+"\n")
			p := c.Peer("p")
			if p == nil {
				t.Fatal("peer missing")
			}
			if !tt.check(p) {
				t.Errorf("check failed: %+v", p)
			}
			if tt.warn == "" {
				wantNoDiags(t, diags)
				return
			}
			if len(diags) != 1 || !strings.Contains(diags[0].Error(), tt.warn) {
				t.Errorf("diags = %v, want %q", diags, tt.warn)
			} else if !strings.HasPrefix(diags[0].Error(), "sip.conf:3: ") {
				t.Errorf("diag %q does not cite sip.conf:3", diags[0].Error())
			}
		})
	}
}

func TestSkippedSections(t *testing.T) {
	c, diags := load(t, `[general]
[authentication]
auth=user:pw@realm
[notype]
host=dynamic
[badtype]
type=gateway
[badacl]
type=friend
deny=not-an-ip
[ok]
type=peer
[general]
bindport=9999
`)
	if len(c.Peers) != 1 || c.Peers[0].Name != "ok" {
		t.Errorf("peers = %v", c.Peers)
	}
	if len(c.Auth) != 1 || c.Auth[0].Value != "user:pw@realm" {
		t.Errorf("auth = %v", c.Auth)
	}
	if c.General.UDPBindAddr != "0.0.0.0:5060" {
		t.Errorf("second [general] was applied: %s", c.General.UDPBindAddr)
	}
	want := []string{
		"sip.conf:13: second [general] ignored",
		"sip.conf:4: [notype] has no type=",
		`sip.conf:7: unknown type "gateway" for [badtype]`,
		"sip.conf:10: bad ACL deny=not-an-ip",
	}
	if len(diags) != len(want) {
		t.Fatalf("diags = %v", diags)
	}
	for i, w := range want {
		if !strings.Contains(diags[i].Error(), w) {
			t.Errorf("diag %d = %q, want %q", i, diags[i].Error(), w)
		}
	}
}

func TestDuplicatePeerMerges(t *testing.T) {
	c, diags := load(t, "[p]\ntype=friend\nsecret=a\ncontext=one\n[p]\ncontext=two\n")
	if len(c.Peers) != 1 {
		t.Fatalf("peers = %d", len(c.Peers))
	}
	p := c.Peers[0]
	if p.Secret != "a" || p.Context != "two" || p.Pos.Line != 1 {
		t.Errorf("merged peer = %+v", p)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Error(), "sip.conf:5: peer [p] defined again (first at sip.conf:1)") {
		t.Errorf("diags = %v", diags)
	}
}

func TestTemplateWarningsOnce(t *testing.T) {
	_, diags := load(t, "[t](!)\ntype=friend\nbogus=1\n[a](t)\n[b](t)\n[c](t)\n")
	if len(diags) != 1 || !strings.Contains(diags[0].Error(), `sip.conf:3: unknown option "bogus"`) {
		t.Errorf("diags = %v", diags)
	}
}

func TestEndpoints(t *testing.T) {
	c, diags := load(t, `[general]
minexpiry=30
qualifyfreq=20

[100]
type=friend
host=dynamic
secret=pw
username=alice
context=phones
qualify=yes
nat=yes
allow=g722
mailbox=100@default

[gw]
type=peer
host=192.0.2.10
port=5070
insecure=port,invite
md5secret=abcdef
transport=tcp
mohinterpret=classic

[fqdn]
type=peer
host=sip.example.com
insecure=port

[u]
type=user
host=dynamic
secret=x
nat=no
`)
	_ = diags
	eps := c.Endpoints()
	if len(eps) != 4 {
		t.Fatalf("%d endpoints", len(eps))
	}
	e := eps[0]
	if e.Key() != "SIP/100" || e.Type != "friend" || !e.Dynamic || e.Context != "phones" || e.Pos.String() != "sip.conf:5" {
		t.Errorf("100: %+v", e)
	}
	wantCreds := []endpoint.Credential{{Username: "100", Password: "pw"}, {Username: "alice", Password: "pw"}}
	if !reflect.DeepEqual(e.Credentials, wantCreds) {
		t.Errorf("100 creds = %+v", e.Credentials)
	}
	if e.MaxContacts != 1 || !e.RemoveExisting || e.MinExpiry != 30*time.Second || e.MaxExpiry != time.Hour || e.DefaultExpiry != 2*time.Minute {
		t.Errorf("100 registration limits: %+v", e)
	}
	if e.QualifyTimeout != 2*time.Second || e.QualifyFrequency != 20*time.Second {
		t.Errorf("100 qualify %v / %v", e.QualifyTimeout, e.QualifyFrequency)
	}
	if e.NAT != (endpoint.NAT{ForceRport: true, Comedia: true, RewriteContact: true}) {
		t.Errorf("100 nat %+v", e.NAT)
	}
	if !reflect.DeepEqual(e.Allow, []string{"ulaw", "alaw", "gsm", "h263", "g722"}) || e.DTMFMode != "rfc2833" || e.DirectMedia || e.MOH != "default" {
		t.Errorf("100 media %v %q %v %q", e.Allow, e.DTMFMode, e.DirectMedia, e.MOH)
	}
	if !reflect.DeepEqual(e.AORs, []string{"100"}) || e.Extra["mailbox"] != "100@default" || e.Extra["username"] != "alice" {
		t.Errorf("100 aors/extra %v %v", e.AORs, e.Extra)
	}
	if _, leaked := e.Extra["secret"]; leaked {
		t.Error("secret leaked into Extra")
	}

	gw := eps[1]
	if gw.Dynamic || gw.Host != "192.0.2.10" || gw.Port != 5070 || gw.Transport != "tcp" || gw.MOH != "classic" {
		t.Errorf("gw: %+v", gw)
	}
	if !reflect.DeepEqual(gw.StaticContacts, []string{"sip:192.0.2.10:5070;transport=tcp"}) {
		t.Errorf("gw contacts %v", gw.StaticContacts)
	}
	if !reflect.DeepEqual(gw.Identify, []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")}) {
		t.Errorf("gw identify %v", gw.Identify)
	}
	if !reflect.DeepEqual(gw.Credentials, []endpoint.Credential{{Username: "gw", HA1: "abcdef"}}) {
		t.Errorf("gw creds %+v", gw.Credentials)
	}
	if gw.NAT != (endpoint.NAT{ForceRport: true, RewriteContact: true}) || gw.QualifyTimeout != 0 {
		t.Errorf("gw default nat/qualify %+v %v", gw.NAT, gw.QualifyTimeout)
	}

	if f := eps[2]; f.Identify != nil || f.Credentials != nil || f.Host != "sip.example.com" {
		t.Errorf("fqdn: %+v", f)
	}
	u := eps[3]
	if u.Dynamic || u.StaticContacts != nil || u.NAT != (endpoint.NAT{}) || len(u.Credentials) != 1 {
		t.Errorf("user: %+v", u)
	}

	set := endpoint.NewSet(eps)
	if set.ByAuthUser("alice") != e || set.ByAOR("gw") != gw || set.ByAddr(netip.MustParseAddr("192.0.2.10")) != gw {
		t.Error("set lookups")
	}
}

// What gopbx sends towards a peer: outboundproxy, and the credentials it
// answers the peer's challenges with (chan_sip: defaultuser or the peer
// name, with remotesecret, else secret, else md5secret).
func TestEndpointOutbound(t *testing.T) {
	c, diags := load(t, `[a]
type=peer
host=192.0.2.1
defaultuser=acct1
secret=s
remotesecret=r
outboundproxy=192.0.2.9:5070
[b]
type=peer
host=192.0.2.2
secret=s
[c]
type=peer
host=192.0.2.3
md5secret=0123456789abcdef0123456789abcdef
[d]
type=peer
host=192.0.2.4
`)
	wantNoDiags(t, diags)
	eps := c.Endpoints()
	want := []struct {
		proxy string
		auth  []endpoint.Credential
	}{
		{"192.0.2.9:5070", []endpoint.Credential{{Username: "acct1", Password: "r"}}},
		{"", []endpoint.Credential{{Username: "b", Password: "s"}}},
		{"", []endpoint.Credential{{Username: "c", HA1: "0123456789abcdef0123456789abcdef"}}},
		{"", nil},
	}
	for i, w := range want {
		e := eps[i]
		if e.OutboundProxy != w.proxy || !reflect.DeepEqual(e.OutboundAuth, w.auth) {
			t.Errorf("%s: proxy %q auth %+v, want %q %+v", e.Name, e.OutboundProxy, e.OutboundAuth, w.proxy, w.auth)
		}
		if _, ok := e.Extra["outboundproxy"]; ok {
			t.Errorf("%s: outboundproxy also in Extra", e.Name)
		}
	}
}
