package dialplan_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/dialplan"
)

var update = flag.Bool("update", false, "rewrite the .golden files")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const showConf = `[general]
static=yes

[demo]
exten => 600,1,Answer()
 same => n,Playtones(echo)
 same => n(end),Hangup()
exten => 100,hint,PJSIP/100
exten => 100,1,Dial(PJSIP/100,30)
exten => 555/_2XX,1,NoOp(vip)
exten => _1XX,1,NoOp(${EXTEN})
include => other
include => daytime,9:00-17:00,mon-fri,*,*
ignorepat => 9

[other]
exten => 700,1,NoOp(other)

[daytime]
exten => _7XX,1,NoOp(day)
`

func TestShow(t *testing.T) {
	dp, _ := apptest.Load(t, showConf)
	for _, tc := range []struct{ arg, golden string }{
		{"", "show_all"},
		{"demo", "show_demo"},
		{"700@demo", "show_700_at_demo"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := dp.Show(&b, tc.arg); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, b.String())
		})
	}
	var b bytes.Buffer
	if err := dp.Show(&b, "nope"); err == nil || !strings.Contains(err.Error(), "no existence of 'nope' context") {
		t.Errorf("Show(nope) = %v", err)
	}
	if err := dp.Show(&b, "999@demo"); err == nil || !strings.Contains(err.Error(), "999@demo") {
		t.Errorf("Show(999@demo) = %v", err)
	}
}

func TestDryRun(t *testing.T) {
	seed := func(name string) *dialplan.Dialplan {
		dp, _, err := dialplan.Load(filepath.Join("testdata", "seeds", name))
		if err != nil {
			t.Fatal(err)
		}
		return dp
	}
	flowsDP, _ := apptest.Load(t, flows)
	gosubDP, _ := apptest.Load(t, `
[globals]
TRUNK=SIP/22TRUNK
[FROMSIP]
exten => _90.,1,Set(NUM=91${EXTEN:2})
 same => n,GotoIf($[${LEN(${NUM})} > 3]?long)
 same => n,Hangup()
 same => n(long),Gosub(sub-dial,s,1(${NUM}))
 same => n,GotoIf($["${GOSUB_RETVAL}" = "BUSY"]?busy:fail)
 same => n(busy),Busy()
 same => n(fail),Congestion()
exten => h,1,NoOp(bye ${HANGUPCAUSE})
[sub-dial]
exten => s,1,Dial(${TRUNK}/${ARG1},40,m(default))
 same => n,Wait(2)
 same => n,Return(${DIALSTATUS})
`)
	tests := []struct {
		name                string
		dp                  *dialplan.Dialplan
		context, exten, cid string
		errIs               error
	}{
		{"seed000", seed("000_voip_gateway.conf"), "myphones", "0212345678", "", nil},
		{"seed001_dila", seed("001_trunk_21.conf"), "FROMSIP", "90123", "", dialplan.ErrNoApplication},
		{"gosub", gosubDP, "FROMSIP", "90123", "200", nil},
		{"flows_included", flowsDP, "demo", "609", "", nil},
		{"flows_invalid", flowsDP, "demo", "999", "", dialplan.ErrNoMatch},
		{"flows_loop", flowsDP, "demo", "610", "", dialplan.ErrLoop},
		{"nomatch_484", seed("004_kamailio.conf"), "from-external", "800", "", dialplan.ErrNoMatch},
		{"nomatch_404", seed("004_kamailio.conf"), "from-external", "80055", "", dialplan.ErrNoMatch},
		{"nocontext", seed("004_kamailio.conf"), "nope", "1", "", dialplan.ErrNoMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			e, err := dialplan.NewEngine(tc.dp, dialplan.WithClock(func() time.Time { return time.Unix(1704272645, 0) }), dialplan.WithMaxSteps(40))
			if err != nil {
				t.Fatal(err)
			}
			err = e.Test(&b, tc.context, tc.exten, tc.cid)
			if !errors.Is(err, tc.errIs) {
				t.Errorf("Test error = %v, want %v", err, tc.errIs)
			}
			golden(t, "dryrun_"+tc.name, b.String())
		})
	}
	// The package-level Test is the same on a fresh engine.
	var b bytes.Buffer
	if err := dialplan.Test(&b, seed("000_voip_gateway.conf"), "myphones", "0212345678", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Dial(SIP/0212345678@voip gateway_ip) — would dial") {
		t.Errorf("Test output:\n%s", b.String())
	}
}
