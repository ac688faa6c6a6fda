package hangup_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/app/hangup"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestHangup(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 1,1,Hangup()
 same => n,NoOp(never reached)
exten => 2,1,Hangup(USER_BUSY)
exten => 3,1,Hangup(21)
exten => 4,1,Hangup(bogus)
`)
	tests := []struct {
		exten string
		want  channel.Cause
	}{
		{"1", channel.CauseNormalClearing},
		{"2", channel.CauseUserBusy},
		{"3", channel.CauseCallRejected},
		{"4", channel.CauseNormalClearing},
	}
	for _, tc := range tests {
		r := apptest.Call(t, e, "demo", tc.exten)
		if r.Err != nil {
			t.Errorf("%s: Run: %v", tc.exten, r.Err)
		}
		if hung, cause := r.Driver.HungUp(); !hung || cause != tc.want {
			t.Errorf("%s: hung up %v with cause %d, want %d", tc.exten, hung, cause, tc.want)
		}
		if app, _ := r.Ch.App(); app != "Hangup" {
			t.Errorf("%s: last application %q, want Hangup", tc.exten, app)
		}
	}
}

func TestHangupKeepsRecordedCause(t *testing.T) {
	e := apptest.Engine(t, "[demo]\nexten => 1,1,Hangup()\n")
	r := apptest.Call(t, e, "demo", "1", func(ch *channel.Channel) { ch.SetHangupCause(channel.CauseNoAnswer) })
	if _, cause := r.Driver.HungUp(); cause != channel.CauseNoAnswer {
		t.Errorf("cause %d, want the recorded %d", cause, channel.CauseNoAnswer)
	}
}

func TestParseCause(t *testing.T) {
	for in, want := range map[string]channel.Cause{"USER_BUSY": 17, "user_busy": 17, "34": 34, " 16 ": 16} {
		if got, ok := hangup.ParseCause(in); !ok || got != want {
			t.Errorf("ParseCause(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "BUSYISH"} {
		if _, ok := hangup.ParseCause(in); ok {
			t.Errorf("ParseCause(%q) accepted", in)
		}
	}
}
