package pbxconf

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/endpoint"
)

// loadSeed loads testdata/seeds/<name> and requires no fatal error.
func loadSeed(t *testing.T, name string) (*PBX, []config.Diag) {
	t.Helper()
	p, diags, err := Load(filepath.Join("testdata", "seeds", name))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p, diags
}

func mustEndpoint(t *testing.T, p *PBX, tech endpoint.Tech, name string) *endpoint.Endpoint {
	t.Helper()
	e := p.Endpoints.Get(tech, name)
	if e == nil {
		t.Fatalf("no endpoint %s/%s; have %v", tech, name, keys(p.Endpoints))
	}
	return e
}

func keys(s *endpoint.Set) []string {
	var out []string
	for _, e := range s.All() {
		out = append(out, e.Key())
	}
	return out
}

// TestSeedsLoad loads every seed directory and its extensions.conf.
func TestSeedsLoad(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "seeds"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			p, diags := loadSeed(t, d.Name())
			for _, dg := range diags {
				if dg.Severity != config.Warning {
					t.Errorf("error diagnostic: %v", dg)
				}
				if !strings.Contains(dg.Error(), ".conf:") {
					t.Errorf("diagnostic without file:line: %v", dg)
				}
				t.Logf("warning: %v", dg)
			}
			if len(p.Endpoints.All()) == 0 {
				t.Error("no endpoints")
			}
			ext := filepath.Join("testdata", "seeds", d.Name(), "extensions.conf")
			if _, err := os.Stat(ext); err == nil {
				f, diags, err := config.ParseFile(ext)
				if err != nil {
					t.Fatalf("extensions.conf: %v", err)
				}
				if len(diags) > 0 {
					t.Errorf("extensions.conf diagnostics: %v", diags)
				}
				if len(f.All()) == 0 {
					t.Error("extensions.conf has no contexts")
				}
			}
		})
	}
}

func TestSeed000(t *testing.T) {
	p, diags := loadSeed(t, "000")
	if p.PJSIP != nil || p.SIP == nil {
		t.Fatal("want sip.conf only")
	}
	want := []Listener{{Name: "sip-udp", Proto: "udp", Addr: "0.0.0.0:5061", Pos: p.SIP.General.Pos}}
	if !reflect.DeepEqual(p.Listeners, want) {
		t.Errorf("listeners = %+v", p.Listeners)
	}
	tr := mustEndpoint(t, p, endpoint.TechSIP, "SIP_trunk")
	if tr.Type != "friend" || !tr.Dynamic || tr.DirectMedia || tr.DTMFMode != "rfc2833" || tr.Context != "default" {
		t.Errorf("SIP_trunk: %+v", tr)
	}
	if tr.NAT != (endpoint.NAT{ForceRport: true, Comedia: true, RewriteContact: true}) {
		t.Errorf("SIP_trunk nat = %+v", tr.NAT)
	}
	if !reflect.DeepEqual(tr.Insecure, []string{"port", "invite"}) || tr.QualifyTimeout != 2*time.Second || tr.QualifyFrequency != time.Minute {
		t.Errorf("SIP_trunk insecure/qualify: %v %v %v", tr.Insecure, tr.QualifyTimeout, tr.QualifyFrequency)
	}
	wantCreds := []endpoint.Credential{{Username: "SIP_trunk", Password: "*****"}, {Username: "*****", Password: "*****"}}
	if !reflect.DeepEqual(tr.Credentials, wantCreds) {
		t.Errorf("SIP_trunk credentials = %+v", tr.Credentials)
	}
	if !reflect.DeepEqual(tr.Allow, []string{"ulaw", "alaw", "gsm", "h263"}) {
		t.Errorf("SIP_trunk allow = %v", tr.Allow)
	}
	u := mustEndpoint(t, p, endpoint.TechSIP, "user")
	if u.Context != "myphones" || !u.Dynamic || u.NAT != tr.NAT {
		t.Errorf("user: %+v", u)
	}
	// nat=yes and insecure=very are reported, with their lines.
	var got []string
	for _, d := range diags {
		got = append(got, d.Error())
	}
	joined := strings.Join(got, "\n")
	for _, w := range []string{"sip.conf:13: insecure=very is deprecated", "sip.conf:17: nat=yes is deprecated", "sip.conf:26: nat=yes is deprecated"} {
		if !strings.Contains(joined, w) {
			t.Errorf("missing warning %q in:\n%s", w, joined)
		}
	}
	if p.UserAgent != "gopbx" || p.Realm != "asterisk" || p.AllowGuest || !p.AlwaysAuthReject || p.DefaultContext != "default" {
		t.Errorf("server settings: %q %q %v %v %q", p.UserAgent, p.Realm, p.AllowGuest, p.AlwaysAuthReject, p.DefaultContext)
	}
}

func TestSeed001(t *testing.T) {
	p, diags := loadSeed(t, "001")
	if len(diags) != 1 || !strings.Contains(diags[0].Error(), "sip.conf:21: insecure=very is deprecated") {
		t.Errorf("diags = %v", diags)
	}
	a := mustEndpoint(t, p, endpoint.TechSIP, "AST21")
	if a.Type != "friend" || !a.Dynamic || a.Context != "FROMSIP" || !reflect.DeepEqual(a.Allow, []string{"ulaw"}) {
		t.Errorf("AST21: %+v", a)
	}
	if !reflect.DeepEqual(a.Credentials, []endpoint.Credential{{Username: "AST21", Password: "123456"}}) {
		t.Errorf("AST21 credentials = %+v", a.Credentials)
	}
	if a.MaxContacts != 1 || !a.RemoveExisting || a.MinExpiry != time.Minute || a.MaxExpiry != time.Hour || a.DefaultExpiry != 2*time.Minute {
		t.Errorf("AST21 registration limits: %+v", a)
	}
	tr := mustEndpoint(t, p, endpoint.TechSIP, "22TRUNK")
	if tr.Dynamic || tr.Host != "192.168.1.22" || tr.FromUser != "AST22" || tr.DTMFMode != "rfc2833" {
		t.Errorf("22TRUNK: %+v", tr)
	}
	if !reflect.DeepEqual(tr.Insecure, []string{"port", "invite"}) {
		t.Errorf("22TRUNK insecure = %v", tr.Insecure)
	}
	if !reflect.DeepEqual(tr.Identify, []netip.Prefix{netip.MustParsePrefix("192.168.1.22/32")}) {
		t.Errorf("22TRUNK identify = %v", tr.Identify)
	}
	if p.Endpoints.ByAddr(netip.MustParseAddr("192.168.1.22")) != tr || p.Endpoints.ByAuthUser("AST22") != tr || p.Endpoints.ByAOR("AST21") != a {
		t.Error("set lookups")
	}
	if len(p.Registrations) != 1 {
		t.Fatalf("registrations = %+v", p.Registrations)
	}
	r := p.Registrations[0]
	if r.Tech != endpoint.TechSIP || r.Name != "AST22@192.168.1.22" || r.SIP.User != "AST22" || r.SIP.Secret != "123456" || r.SIP.Host != "192.168.1.22" || r.SIP.Expiry != 2*time.Minute || r.Pos.String() != filepath.Join("testdata", "seeds", "001", "sip.conf")+":2" {
		t.Errorf("registration = %+v %+v", r, r.SIP)
	}
	if !reflect.DeepEqual(p.Listeners, []Listener{{Name: "sip-udp", Proto: "udp", Addr: "0.0.0.0:5060", Pos: p.SIP.General.Pos}}) {
		t.Errorf("listeners = %+v", p.Listeners)
	}
}

func TestSeed001Provider(t *testing.T) {
	p, _ := loadSeed(t, "001-provider")
	e := mustEndpoint(t, p, endpoint.TechSIP, "ast_provider")
	if e.Type != "peer" || e.Host != "192.168.1.1" || e.FromUser != "199" || e.QualifyTimeout != 2*time.Second {
		t.Errorf("ast_provider: %+v", e)
	}
	r := p.Registrations[0].SIP
	if r.User != "199" || r.Secret != "199pass" || r.Extension != "ast_provider_reg" {
		t.Errorf("register = %+v", r)
	}
}

func TestSeed004(t *testing.T) {
	p, diags := loadSeed(t, "004")
	if len(diags) != 0 {
		t.Errorf("diags = %v", diags)
	}
	if p.SIP != nil || p.PJSIP == nil {
		t.Fatal("want pjsip.conf only")
	}
	for _, name := range []string{"8005", "8006"} {
		e := mustEndpoint(t, p, endpoint.TechPJSIP, name)
		if e.Context != "from-external" || !reflect.DeepEqual(e.Allow, []string{"ulaw"}) || e.Transport != "transport-udp" {
			t.Errorf("%s: %+v", name, e)
		}
		if !reflect.DeepEqual(e.Credentials, []endpoint.Credential{{Username: name, Password: name}}) {
			t.Errorf("%s credentials = %+v", name, e.Credentials)
		}
		if !e.Dynamic || e.MaxContacts != 1 || e.RemoveExisting || e.MinExpiry != time.Minute || e.MaxExpiry != 2*time.Hour || e.DefaultExpiry != time.Hour {
			t.Errorf("%s aor: %+v", name, e)
		}
		if e.QualifyFrequency != 0 || e.DTMFMode != "rfc4733" || !e.NAT.ForceRport || e.NAT.RewriteContact {
			t.Errorf("%s defaults: %+v", name, e)
		}
		if p.Endpoints.ByAOR(name) != e || p.Endpoints.ByAuthUser(name) != e {
			t.Errorf("%s lookups", name)
		}
	}
	if len(p.Listeners) != 1 || p.Listeners[0].Name != "transport-udp" || p.Listeners[0].Proto != "udp" || p.Listeners[0].Addr != "0.0.0.0:5061" {
		t.Errorf("listeners = %+v", p.Listeners)
	}
}

// writeDir creates a configuration directory from name → content.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNoFiles(t *testing.T) {
	p, diags, err := Load(writeDir(t, nil))
	if err != nil || len(diags) != 0 {
		t.Fatalf("Load: %v %v", err, diags)
	}
	if p.SIP != nil || p.PJSIP != nil || len(p.Endpoints.All()) != 0 {
		t.Error("want an empty PBX")
	}
	want := []Listener{{Name: "default-udp", Proto: "udp", Addr: "0.0.0.0:5060"}, {Name: "default-tcp", Proto: "tcp", Addr: "0.0.0.0:5060"}}
	if !reflect.DeepEqual(p.Listeners, want) {
		t.Errorf("listeners = %+v", p.Listeners)
	}
}

func TestPJSIPWithoutTransports(t *testing.T) {
	p, _, err := Load(writeDir(t, map[string]string{"pjsip.conf": "[100]\ntype=endpoint\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Listeners) != 2 || p.Listeners[0].Addr != DefaultListen {
		t.Errorf("listeners = %+v", p.Listeners)
	}
}

func TestBothFiles(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"sip.conf": `[general]
useragent=Legacy
tcpenable=yes
externaddr=203.0.113.1
localnet=192.168.0.0/16
allowguest=yes
context=guests
register => legacy:pw@old.example.com:5070
#include sip_custom.conf
`,
		"sip_custom.conf": `[100]
type=friend
host=dynamic
secret=old
[200]
type=friend
host=dynamic
secret=two
frobnicate=1
`,
		"pjsip.conf": `[udp]
type=transport
protocol=udp
bind=0.0.0.0:5060
local_net=10.0.0.0/8
[tcp6]
type=transport
protocol=tcp
bind=[::]:5060
[100]
type=endpoint
auth=100
aors=100
[100]
type=auth
username=100
password=new
[100]
type=aor
max_contacts=1
[reg]
type=registration
server_uri=sip:new.example.com
client_uri=sip:acct@new.example.com
`,
	})
	p, diags, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || !strings.HasSuffix(diags[0].Pos.File, "sip_custom.conf") || diags[0].Pos.Line != 9 ||
		!strings.Contains(diags[0].Error(), `sip_custom.conf:9: unknown option "frobnicate" (included from `) {
		t.Errorf("diags = %v", diags)
	}
	// pjsip first: PJSIP/100 owns AOR and user "100"; SIP/100 stays reachable by key.
	if e := p.Endpoints.ByAOR("100"); e == nil || e.Tech != endpoint.TechPJSIP {
		t.Errorf("ByAOR(100) = %v", e)
	}
	if p.Endpoints.Get(endpoint.TechSIP, "100") == nil || p.Endpoints.ByAuthUser("200").Tech != endpoint.TechSIP {
		t.Error("sip.conf peers missing")
	}
	var ls []string
	for _, l := range p.Listeners {
		ls = append(ls, l.Name+" "+l.Proto+" "+l.Addr)
	}
	want := []string{"udp udp 0.0.0.0:5060", "tcp6 tcp [::]:5060", "sip-tcp tcp 0.0.0.0:5060"}
	if !reflect.DeepEqual(ls, want) {
		t.Errorf("listeners = %q, want %q", ls, want)
	}
	udp := p.Listeners[0]
	if udp.ExternalSignaling != "203.0.113.1" || udp.ExternalMedia != "203.0.113.1" ||
		!reflect.DeepEqual(udp.LocalNets, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")}) {
		t.Errorf("merged udp listener = %+v", udp)
	}
	if p.ExternSignaling != "203.0.113.1" || p.ExternMedia != "203.0.113.1" || len(p.LocalNets) != 2 {
		t.Errorf("nat: %q %q %v", p.ExternSignaling, p.ExternMedia, p.LocalNets)
	}
	if p.UserAgent != "Legacy" || !p.AllowGuest || p.DefaultContext != "guests" {
		t.Errorf("settings: %q %v %q", p.UserAgent, p.AllowGuest, p.DefaultContext)
	}
	if len(p.Registrations) != 2 || p.Registrations[0].Name != "reg" || p.Registrations[0].PJSIP == nil ||
		p.Registrations[1].Name != "legacy@old.example.com:5070" || p.Registrations[1].SIP == nil {
		t.Errorf("registrations = %+v", p.Registrations)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"sip.conf": "[general]\nbindport=5060\n[broken\n"}, "sip.conf:3: no closing ']'"},
		{map[string]string{"pjsip.conf": "[t]\ntype=transport\n\n[x]\nprotocol=udp\n"}, "pjsip.conf:4: [x] has no type="},
		{map[string]string{"sip.conf": "[general]\n#include missing.conf\n"}, `sip.conf:2: #include "missing.conf": no such file`},
		{map[string]string{"sip.conf": "[general]\n", "pjsip.conf": "[a]\ntype=aor\n[a]\ntype=aor\n"}, "pjsip.conf:3: duplicate aor object [a]"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p, _, err := Load(writeDir(t, tt.files))
			if err == nil {
				t.Fatalf("loaded: %+v", p)
			}
			var d *config.Diag
			if !errors.As(err, &d) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAnonymousEndpointAllowsGuests(t *testing.T) {
	p, _, err := Load(writeDir(t, map[string]string{"pjsip.conf": "[anonymous]\ntype=endpoint\ncontext=guests\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if !p.AllowGuest {
		t.Error("AllowGuest = false with an anonymous endpoint")
	}
}
