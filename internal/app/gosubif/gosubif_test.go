package gosubif_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/gosubif"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestGosubIf(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 1,1,GosubIf(${C}?yes,1(a:b):no,1)
 same => n,Set(R=${R}+back)
exten => yes,1,Set(R=yes-${ARG1})
 same => n,Return()
exten => no,1,Set(R=no-${ARGC})
 same => n,Return()
exten => 2,1,GosubIf(${C}?yes,1)
 same => n,Set(R=${R}+back)
`)
	tests := []struct{ exten, c, want string }{
		{"1", "1", "yes-a:b+back"},
		{"1", "0", "no-0+back"},
		{"2", "0", "+back"},
	}
	for _, tc := range tests {
		r := apptest.Call(t, e, "demo", tc.exten, func(ch *channel.Channel) { ch.SetVar("C", tc.c) })
		if r.Err != nil {
			t.Fatalf("Run: %v", r.Err)
		}
		if got := r.Var("R"); got != tc.want {
			t.Errorf("%s with C=%s: R = %q, want %q", tc.exten, tc.c, got, tc.want)
		}
	}
}
