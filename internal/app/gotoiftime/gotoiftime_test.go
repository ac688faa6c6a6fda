package gotoiftime_test

import (
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/dialplan"

	_ "github.com/gopbx/gopbx/internal/app/gotoiftime"
	_ "github.com/gopbx/gopbx/internal/app/hangup"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestGotoIfTime(t *testing.T) {
	conf := `
[demo]
exten => s,1,GotoIfTime(9:00-17:00,mon-fri,*,*?open:closed)
 same => n(open),Set(R=open)
 same => n,Hangup()
 same => n(closed),Set(R=closed)
 same => n,Hangup()
`
	tests := []struct {
		at   string
		want string
	}{
		{"2024-01-03 10:00", "open"},   // Wednesday
		{"2024-01-03 17:00", "open"},   // end minute included
		{"2024-01-03 17:01", "closed"}, // after hours
		{"2024-01-06 10:00", "closed"}, // Saturday
	}
	for _, tc := range tests {
		now, err := time.ParseInLocation("2006-01-02 15:04", tc.at, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		e := apptest.Engine(t, conf, dialplan.WithClock(func() time.Time { return now }))
		r := apptest.Call(t, e, "demo", "s")
		if got := r.Var("R"); got != tc.want {
			t.Errorf("at %s: R = %q, want %q", tc.at, got, tc.want)
		}
	}
}
