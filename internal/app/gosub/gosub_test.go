package gosub_test

import (
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"

	_ "github.com/gopbx/gopbx/internal/app/gosub"
	_ "github.com/gopbx/gopbx/internal/app/noop"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestGosubReturn(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 100,1,Set(ARG1=outer)
 same => n,Gosub(sub,s,1(a,"b,c"))
 same => n,Set(R1=${GOSUB_RETVAL}|${ARG1}|${ARG2}|${ARGC})
 same => n,Gosub(nested,1)
 same => n,Set(R2=${GOSUB_RETVAL})
exten => nested,1,Gosub(sub,s,1(x))
 same => n,Return(${GOSUB_RETVAL}+nested)
exten => 200,1,Gosub(nowhere,s,1)
 same => n,Set(R=not reached)
exten => 300,1,Return()
[sub]
exten => s,1,Set(SEEN=${SEEN}[${ARG1}|${ARG2}|${ARGC}])
 same => n,Return(ret-${ARG1})
`)
	r := apptest.Call(t, e, "demo", "100")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	if got, want := r.Var("SEEN"), `[a|"b,c"|2][x||1]`; got != want {
		t.Errorf("SEEN = %q, want %q", got, want)
	}
	if got, want := r.Var("R1"), "ret-a|outer||"; got != want {
		t.Errorf("R1 = %q, want %q (ARGn restored after Return)", got, want)
	}
	if got, want := r.Var("R2"), "ret-x+nested"; got != want {
		t.Errorf("R2 = %q, want %q", got, want)
	}

	r = apptest.Call(t, e, "demo", "200")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "non-existent destination") {
		t.Errorf("Gosub to nowhere: err = %v, want a non-existent destination error", r.Err)
	}
	if r.Var("R") != "" {
		t.Error("the dialplan went on after a failed Gosub")
	}
	r = apptest.Call(t, e, "demo", "300")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "Return without Gosub") {
		t.Errorf("Return alone: err = %v", r.Err)
	}
}
