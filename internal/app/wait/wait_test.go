package wait_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/app/wait"
	"github.com/gopbx/gopbx/internal/channel"

	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestWait(t *testing.T) {
	e := apptest.Engine(t, `
[demo]
exten => 1,1,Wait(0.05)
 same => n,Set(DONE=1)
exten => 2,1,Wait(30)
 same => n,Set(DONE=1)
`)
	start := time.Now()
	r := apptest.Call(t, e, "demo", "1")
	if r.Err != nil || r.Var("DONE") != "1" {
		t.Fatalf("Wait(0.05): err %v, DONE %q", r.Err, r.Var("DONE"))
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("Wait(0.05) took %s", el)
	}

	ch, d := apptest.NewChannel(t)
	ch.SetLocation(channel.Location{Context: "demo", Exten: "2", Priority: 1})
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), ch) }()
	time.Sleep(20 * time.Millisecond)
	ch.Gone(channel.CauseNormalClearing) // the caller hangs up
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after hangup: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return when the caller hung up")
	}
	if v, _ := ch.Var("DONE"); v != "" {
		t.Error("the dialplan went on after the hangup")
	}
	if hung, _ := d.HungUp(); hung {
		t.Error("the driver was asked to hang up a channel the far end had already hung up")
	}
}

func TestParseTimelen(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"250ms", 250 * time.Millisecond, true},
		{"2m", 2 * time.Minute, true},
		{"1h", time.Hour, true},
		{"", 0, false},
		{"abc", 0, false},
		{"3x", 0, false},
	}
	for _, tc := range tests {
		got, ok := wait.ParseTimelen(tc.in, time.Second)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseTimelen(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
