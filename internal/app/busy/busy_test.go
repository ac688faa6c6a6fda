package busy_test

import (
	"reflect"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/busy"
	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestBusy(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 1,1,Busy()
 same => n,NoOp(not reached)
exten => 2,1,Answer()
 same => n,Busy(0.05)
exten => h,1,NoOp(cause ${HANGUPCAUSE})
`)
	r := apptest.Call(t, e, "demo", "1")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	if hung, cause := r.Driver.HungUp(); !hung || cause != channel.CauseUserBusy {
		t.Errorf("hung up %v with cause %d, want 17", hung, cause)
	}
	if got := r.Driver.Indications(); !reflect.DeepEqual(got, []channel.Indication{channel.IndBusy}) {
		t.Errorf("indications = %v", got)
	}
	if _, data := r.Ch.App(); data != "cause 17" {
		t.Errorf("h saw %q, want cause 17", data)
	}
	r = apptest.Call(t, e, "demo", "2")
	if hung, cause := r.Driver.HungUp(); !hung || cause != channel.CauseNormalClearing {
		t.Errorf("answered call: hung up %v with cause %d, want normal clearing", hung, cause)
	}
}
