package set_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestSet(t *testing.T) {
	e := apptest.Engine(t, `
[globals]
G=global
[demo]
exten => 100,1,Set(A=1)
 same => n,Set(LIST=a,b,c)
 same => n,Set(_ONE=x)
 same => n,Set(__ALL=y)
 same => n,Set(CALLERID(name)=Sales ${CALLERID(num)})
 same => n,Set(CALLERID(num)=555${CALLERID(num)})
 same => n,Set(GLOBAL(G)=${G}-changed)
 same => n,Set(DEL=x)
 same => n,Set(DEL=)
 same => n,Set(NOEQUALS)
 same => n,Set(NOPE(x)=1)
 same => n,Set(EXPR=$[1 + 2])
`)
	r := apptest.Call(t, e, "demo", "100", func(ch *channel.Channel) {
		ch.SetCallerID(channel.CallerID{Num: "200"})
	})
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	for name, want := range map[string]string{"A": "1", "LIST": "a,b,c", "ONE": "x", "ALL": "y", "DEL": "", "EXPR": "3"} {
		if got := r.Var(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if id := r.Ch.CallerID(); id.Name != "Sales 200" || id.Num != "555200" {
		t.Errorf("caller ID = %+v", id)
	}
	if g, _ := e.Globals().Global("G"); g != "global-changed" {
		t.Errorf("global G = %q", g)
	}
	inherited := map[string]bool{}
	for _, kv := range r.Ch.Vars() {
		inherited[kv[0]] = true
	}
	if !inherited["_ONE"] || !inherited["__ALL"] {
		t.Errorf("inheritance prefixes lost: %v", r.Ch.Vars())
	}
}
