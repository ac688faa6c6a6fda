package ringing_test

import (
	"reflect"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/ringing"
)

func TestRinging(t *testing.T) {
	e := apptest.Engine(t, "[demo]\nexten => 1,1,Ringing()\n")
	r := apptest.Call(t, e, "demo", "1")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	if got := r.Driver.Indications(); !reflect.DeepEqual(got, []channel.Indication{channel.IndRinging}) {
		t.Errorf("indications = %v, want [Ringing]", got)
	}
	if r.Driver.Answers() != 0 {
		t.Error("Ringing answered the call")
	}
}
