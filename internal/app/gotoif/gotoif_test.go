package gotoif_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/gotoapp"
	_ "github.com/gopbx/gopbx/internal/app/gotoif"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestGotoIf(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => _X.,1,Set(PATH=)
 same => n,GotoIf($["${CALLERID(num)}" = "200"]?boss:staff)
 same => n(staff),Set(PATH=${PATH}staff)
 same => n,Goto(end)
 same => n(boss),Set(PATH=${PATH}boss)
 same => n(end),GotoIf(${COND}?:skip)
 same => n,Set(PATH=${PATH}-ontrue)
 same => n(skip),Set(PATH=${PATH}-end)
 same => n,GotoIf(1?other,s,1)
[other]
exten => s,1,Set(PATH=${PATH}-other)
`)
	tests := []struct {
		cid, cond, want string
	}{
		{"200", "1", "boss-ontrue-end-other"},
		{"100", "1", "staff-ontrue-end-other"},
		{"100", "0", "staff-end-other"},
		{"100", "", "staff-end-other"},
		{"100", "abc", "staff-ontrue-end-other"},
	}
	for _, tc := range tests {
		r := apptest.Call(t, e, "demo", "123", func(ch *channel.Channel) {
			ch.SetCallerID(channel.CallerID{Num: tc.cid})
			ch.SetVar("COND", tc.cond)
		})
		if r.Err != nil {
			t.Fatalf("Run: %v", r.Err)
		}
		if got := r.Var("PATH"); got != tc.want {
			t.Errorf("cid %s cond %q: PATH = %q, want %q", tc.cid, tc.cond, got, tc.want)
		}
	}
}
