package dialplan_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan"
)

// The extensions.conf snippets of the seed articles, kept as their authors
// wrote them, must load: the mistakes in them are warnings, as in Asterisk.
func TestSeedsLoad(t *testing.T) {
	tests := []struct {
		file string
		want []string // warning substrings, in order
	}{
		{"000_voip_gateway.conf", []string{
			"000_voip_gateway.conf:5: unknown option 'tatic' in [general] (did you mean 'static'?)",
		}},
		{"001_trunk_21.conf", []string{
			"001_trunk_21.conf:7: no application 'dila' for extension '_90.' priority 1",
			"001_trunk_21.conf:7: ${exten} is empty",
			"001_trunk_21.conf:9: ${exten} is empty",
		}},
		{"001_trunk_22.conf", []string{
			"001_trunk_22.conf:3: no application 'dila'",
			"001_trunk_22.conf:3: ${exten} is empty",
			"001_trunk_22.conf:4: ${exten} is empty",
		}},
		{"001_routes.conf", nil},
		{"004_kamailio.conf", nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, diags, err := dialplan.Load(filepath.Join("testdata", "seeds", tc.file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			warns := apptest.Warnings(diags)
			if len(warns) != len(tc.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(warns, "\n"), len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warns[i], w)
				}
			}
		})
	}
}

func loadSeed(t *testing.T, name string) *dialplan.Engine {
	t.Helper()
	dp, _, err := dialplan.Load(filepath.Join("testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := dialplan.NewEngine(dp, dialplan.WithLogger(apptest.Logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSeedCalls(t *testing.T) {
	tests := []struct {
		seed, context, exten string
		dialed               string // ${DIALED} after the call
		errIs                error
	}{
		// Seed 000: ten digits starting with 0 go to the gateway, host
		// name with its space as written.
		{"000_voip_gateway.conf", "myphones", "0212345678", "SIP/0212345678@voip gateway_ip", nil},
		// Seed 001: the misspelled application fails the call where
		// Asterisk would ("No application 'dila' for extension").
		{"001_trunk_21.conf", "FROMSIP", "90123", "", dialplan.ErrNoApplication},
		// ...and ${exten:2} is empty, as in Asterisk.
		{"001_trunk_21.conf", "FROMSIP", "91123", "sip/,40,m(default)", nil},
		// The FreePBX routes of seed 001.
		{"001_routes.conf", "from-internal", "012101", "SIP/ast_provider/101", nil},
		{"001_routes.conf", "from-internal", "012861234567", "SIP/ast_provider/861234567", nil},
		{"001_routes.conf", "from-internal", "8005", "IAX2/InterOffice/8005", nil},
		{"001_routes.conf", "from-internal", "42123", "IAX2/InterOffice/2123", nil},
		{"001_routes.conf", "from-internal-b", "2123", "SIP/trunk/123", nil},
		// Seed 004.
		{"004_kamailio.conf", "from-external", "8005", "PJSIP/8005", nil},
	}
	for _, tc := range tests {
		t.Run(tc.seed+"/"+tc.exten, func(t *testing.T) {
			e := loadSeed(t, tc.seed)
			r := apptest.Call(t, e, tc.context, tc.exten)
			if !errors.Is(r.Err, tc.errIs) {
				t.Errorf("Run error = %v, want %v", r.Err, tc.errIs)
			}
			if got := r.Var("DIALED"); got != tc.dialed {
				t.Errorf("Dial(%s), want Dial(%s)", got, tc.dialed)
			}
			if hung, _ := r.Driver.HungUp(); !hung {
				t.Error("channel not hung up after the run")
			}
		})
	}
}

// A 90 prefix rewritten to 91 as seed 001 meant it, with ${EXTEN:2}.
func TestSeed001Corrected(t *testing.T) {
	e := apptest.Engine(t, `
[FROMSIP]
Exten => _90.,1,Dial(sip/91${EXTEN:2}@22TRUNK,40,m(default))
Exten => _91.,1,Dial(sip/${EXTEN:2},40,m(default))
`)
	r := apptest.Call(t, e, "FROMSIP", "90123")
	if got := r.Var("DIALED"); got != "sip/91123@22TRUNK,40,m(default)" {
		t.Errorf("90123 dials %q", got)
	}
	r = apptest.Call(t, e, "FROMSIP", "91123")
	if got := r.Var("DIALED"); got != "sip/123,40,m(default)" {
		t.Errorf("91123 dials %q", got)
	}
}

// Seed 000's dialplan after a busy gateway: Playtones is a stub, Hangup
// ends the call with the cause Dial recorded.
func TestSeed000Busy(t *testing.T) {
	e := loadSeed(t, "000_voip_gateway.conf")
	r := apptest.Call(t, e, "myphones", "0212345678", func(ch *channel.Channel) {
		ch.SetVar("FAKE_DIALSTATUS", "BUSY")
		ch.SetHangupCause(channel.CauseUserBusy)
	})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if app, _ := r.Ch.App(); app != "Hangup" {
		t.Errorf("last application %s, want Hangup after Playtones", app)
	}
	if _, cause := r.Driver.HungUp(); cause != channel.CauseUserBusy {
		t.Errorf("cause %d, want 17", cause)
	}
}
