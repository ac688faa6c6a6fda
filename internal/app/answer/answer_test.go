package answer_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestAnswer(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 600,1,Answer()
 same => n,Answer()
 same => n,NoOp(answered)
exten => 601,1,Answer(20)
`)
	r := apptest.Call(t, e, "demo", "600")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	if n := r.Driver.Answers(); n != 1 {
		t.Errorf("driver answered %d times, want 1 (the second Answer is a no-op)", n)
	}
	if hung, cause := r.Driver.HungUp(); !hung || cause != channel.CauseNormalClearing {
		t.Errorf("hangup = %v, cause %d; want normal clearing after autofallthrough", hung, cause)
	}
	r = apptest.Call(t, e, "demo", "601")
	if r.Err != nil || r.Driver.Answers() != 1 {
		t.Errorf("Answer(20): err %v, answers %d", r.Err, r.Driver.Answers())
	}
}
