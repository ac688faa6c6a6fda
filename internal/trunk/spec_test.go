package trunk

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/endpoint"
)

func load(t *testing.T, files map[string]string) *pbxconf.PBX {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _, err := pbxconf.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func seed(t *testing.T, name string) *pbxconf.PBX {
	t.Helper()
	cfg, _, err := pbxconf.Load(filepath.Join("..", "config", "pbxconf", "testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFromConfigSeeds(t *testing.T) {
	tests := []struct {
		seed string
		want Spec
	}{
		{"001", Spec{Tech: endpoint.TechSIP, Name: "AST22@192.168.1.22", Server: "sip:192.168.1.22", Addr: "192.168.1.22:5060",
			AOR: "sip:AST22@192.168.1.22", ContactUser: "s", Transport: "UDP", Local: "0.0.0.0:5060",
			Username: "AST22", Password: "123456", Expiry: 120 * time.Second, Retry: 20 * time.Second, AuthPermanent: true}},
		{"001-provider", Spec{Tech: endpoint.TechSIP, Name: "199@192.168.1.1", Server: "sip:192.168.1.1", Addr: "192.168.1.1:5060",
			AOR: "sip:199@192.168.1.1", ContactUser: "ast_provider_reg", Transport: "UDP", Local: "0.0.0.0:5060",
			Username: "199", Password: "199pass", Expiry: 120 * time.Second, Retry: 20 * time.Second, AuthPermanent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			specs, errs := FromConfig(seed(t, tt.seed))
			if len(errs) > 0 || len(specs) != 1 {
				t.Fatalf("specs %+v, errors %v", specs, errs)
			}
			got := specs[0]
			got.Pos, got.UserAgent = "", ""
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFromConfigSIP(t *testing.T) {
	cfg := load(t, map[string]string{"sip.conf": `[general]
bindaddr=127.0.0.1
tcpenable=yes
registertimeout=7
registerattempts=3
register_retry_403=yes
register => prov?tcp://acct@voip.example:5070:pw:authid@10.0.0.9:5080/did1~90

[prov]
type=peer
host=10.0.0.9
outboundproxy=10.0.0.1:5999
`})
	specs, errs := FromConfig(cfg)
	if len(errs) > 0 || len(specs) != 1 {
		t.Fatalf("specs %+v, errors %v", specs, errs)
	}
	s := specs[0]
	if s.Name != "prov" || s.Server != "sip:voip.example:5070" || s.Addr != "10.0.0.9:5080" || s.AOR != "sip:acct@voip.example:5070" ||
		s.ContactUser != "did1" || s.Transport != "TCP" || s.Username != "authid" || s.Password != "pw" || s.Expiry != 90*time.Second ||
		s.Retry != 7*time.Second || s.MaxRetries != 3 || s.Forbidden != 7*time.Second || s.Proxy != "10.0.0.1:5999" {
		t.Errorf("%+v", s)
	}
	if s.Host() != "10.0.0.9:5080" || s.User() != "acct" {
		t.Errorf("host %s user %s", s.Host(), s.User())
	}
}

func TestFromConfigPJSIP(t *testing.T) {
	cfg := load(t, map[string]string{"pjsip.conf": `[t-udp]
type=transport
protocol=udp
bind=127.0.0.1:5062

[prov]
type=registration
transport=t-udp
server_uri=sip:sip.example.com:5070
client_uri=sip:1234@sip.example.com
contact_user=inbound
outbound_auth=prov-auth
outbound_proxy=sip:10.0.0.1:5999\;lr
expiration=300
retry_interval=30
forbidden_retry_interval=600
fatal_retry_interval=900
max_retries=5
auth_rejection_permanent=no
max_random_initial_delay=0

[prov-auth]
type=auth
username=1234
password=secret
`})
	specs, errs := FromConfig(cfg)
	if len(errs) > 0 || len(specs) != 1 {
		t.Fatalf("specs %+v, errors %v", specs, errs)
	}
	s := specs[0]
	s.Pos, s.UserAgent = "", ""
	want := Spec{Tech: endpoint.TechPJSIP, Name: "prov", Server: "sip:sip.example.com:5070", AOR: "sip:1234@sip.example.com",
		ContactUser: "inbound", Transport: "UDP", Local: "127.0.0.1:5062", Proxy: "10.0.0.1:5999", Route: "<sip:10.0.0.1:5999;lr>",
		Username: "1234", Password: "secret", AuthName: "prov-auth", Expiry: 300 * time.Second, Retry: 30 * time.Second,
		Forbidden: 600 * time.Second, Fatal: 900 * time.Second, MaxRetries: 5}
	if s != want {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if s.Host() != "sip.example.com:5070" {
		t.Errorf("host %s", s.Host())
	}
}
