package mset_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"

	_ "github.com/gopbx/gopbx/internal/app/mset"
)

func TestMSet(t *testing.T) {
	e := apptest.Engine(t, "[demo]\nexten => 1,1,MSet(A=1,B=x=y,LIST=\"a,b\",BAD,_INH=2)\n")
	r := apptest.Call(t, e, "demo", "1")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	for name, want := range map[string]string{"A": "1", "B": "x=y", "LIST": "a,b", "BAD": "", "INH": "2"} {
		if got := r.Var(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
