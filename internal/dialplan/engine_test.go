package dialplan_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan"
)

const flows = `
[globals]
OPERATOR=100

[demo]
exten => 600,1,Answer()
 same => n,Set(STEP=${STEP}a)
 same => n,NoOp(${CALLERID(num)})
 same => n,Hangup(USER_BUSY)
 same => n,Set(STEP=${STEP}-not-reached)

exten => 601,1,Set(STEP=start)
; falls through: autofallthrough with the last DIALSTATUS

exten => 602,1,Dial(PJSIP/x)
; DIALSTATUS comes from the fake Dial

exten => 603,1,Goto(target,1)
exten => 604,1,Goto(nowhere,1)
exten => 605,1,Goto(600,nolabel)
exten => 606,1,Goto(+2)
 same => n,Set(STEP=skipped)
 same => n,Set(STEP=${STEP}+2)
 same => n,Goto(-1)
exten => 607,1,bogus(x)
exten => 608,1,Wait(30)
exten => 609,1,Set(STEP=${CONTEXT}/${EXTEN})
 same => n,Goto(700,1)
exten => 610,1,Goto(loop,1)
exten => loop,1,Set(N=$[${N} + 1])
 same => n,Goto(loop,1)
exten => s,1,Set(STEP=started-at-s)
exten => target,1,Set(STEP=${STEP}target)
 same => n(there),Set(STEP=${STEP}-there)

exten => i,1,Set(STEP=invalid:${INVALID_EXTEN})
exten => h,1,Set(H=${EXTEN}:${HANGUPCAUSE}:${STEP})
 same => n,Wait(10)
 same => n,Set(H=${H})
include => inc

[inc]
exten => 700,1,Set(STEP=${STEP}|${CONTEXT}/${EXTEN})

[noi]
exten => 1,1,Goto(2,1)
`

// flowEngine loads flows, whose 607 calls an unknown application on
// purpose (a load warning).
func flowEngine(t *testing.T, opts ...dialplan.Option) *dialplan.Engine {
	t.Helper()
	dp, warns := apptest.Load(t, flows)
	if len(warns) != 1 || !strings.Contains(warns[0], "no application 'bogus'") {
		t.Fatalf("warnings = %q", warns)
	}
	e, err := dialplan.NewEngine(dp, append([]dialplan.Option{dialplan.WithLogger(apptest.Logger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRunFlows(t *testing.T) {
	e := flowEngine(t, dialplan.WithMaxSteps(200))
	tests := []struct {
		name, context, exten string
		setup                func(*channel.Channel)
		step, h              string
		cause                channel.Cause
		errIs                error
	}{
		{name: "hangup app", context: "demo", exten: "600", step: "a", h: "h:17:a", cause: channel.CauseUserBusy},
		{name: "autofallthrough", context: "demo", exten: "601", step: "start", h: "h:0:start", cause: channel.CauseNormalClearing},
		{name: "fallthrough busy", context: "demo", exten: "602", setup: dialStatus("BUSY"), h: "h:17:", cause: channel.CauseUserBusy},
		{name: "fallthrough congestion", context: "demo", exten: "602", setup: dialStatus("CONGESTION"), h: "h:34:", cause: channel.CauseNormalCircuitCongestion},
		{name: "fallthrough chanunavail", context: "demo", exten: "602", setup: dialStatus("CHANUNAVAIL"), h: "h:34:", cause: channel.CauseNormalCircuitCongestion},
		{name: "fallthrough noanswer", context: "demo", exten: "602", setup: dialStatus("NOANSWER"), h: "h:0:", cause: channel.CauseNormalClearing},
		{name: "goto label", context: "demo", exten: "603", step: "target-there", h: "h:0:target-there", cause: channel.CauseNormalClearing},
		{name: "goto invalid exten", context: "demo", exten: "604", step: "invalid:nowhere", h: "h:0:invalid:nowhere", cause: channel.CauseNormalClearing},
		{name: "goto bad label", context: "demo", exten: "605", h: "h:0:", cause: channel.CauseNormalClearing, errIs: errAny},
		{name: "relative goto", context: "demo", exten: "606", errIs: dialplan.ErrLoop, cause: channel.CauseNormalClearing, step: "+2+2+2*", h: "h:0:+2+2+2*"},
		{name: "unknown app", context: "demo", exten: "607", errIs: dialplan.ErrNoApplication, h: "h:0:", cause: channel.CauseNormalClearing},
		{name: "empty exten starts at s", context: "demo", exten: "", step: "started-at-s", h: "h:0:started-at-s", cause: channel.CauseNormalClearing},
		{name: "included context keeps CONTEXT", context: "demo", exten: "609", step: "demo/609|demo/700", h: "h:0:demo/609|demo/700", cause: channel.CauseNormalClearing},
		{name: "invalid start", context: "demo", exten: "999", step: "invalid:999", h: "h:0:invalid:999", cause: channel.CauseNormalClearing},
		{name: "invalid without i", context: "noi", exten: "1", errIs: dialplan.ErrInvalidExtension, cause: channel.CauseUnallocated},
		{name: "no such context", context: "nowhere", exten: "1", errIs: dialplan.ErrInvalidExtension, cause: channel.CauseUnallocated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var setup []func(*channel.Channel)
			if tc.setup != nil {
				setup = append(setup, tc.setup)
			}
			r := apptest.Call(t, e, tc.context, tc.exten, setup...)
			switch {
			case tc.errIs == errAny:
				if r.Err == nil {
					t.Error("Run succeeded, want an error")
				}
			case !errors.Is(r.Err, tc.errIs):
				t.Errorf("Run error = %v, want %v", r.Err, tc.errIs)
			}
			if got := r.Var("STEP"); !matches(got, tc.step) {
				t.Errorf("STEP = %q, want %q", got, tc.step)
			}
			if got := r.Var("H"); !matches(got, tc.h) {
				t.Errorf("h saw %q, want %q", got, tc.h)
			}
			hung, cause := r.Driver.HungUp()
			if !hung || cause != tc.cause {
				t.Errorf("hung up %v with cause %d, want %d", hung, cause, tc.cause)
			}
		})
	}
}

var errAny = errors.New("any error")

// matches compares got with want, where a trailing '*' in want matches any
// suffix.
func matches(got, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, p)
	}
	return got == want
}

func dialStatus(s string) func(*channel.Channel) {
	return func(ch *channel.Channel) { ch.SetVar("FAKE_DIALSTATUS", s) }
}

func TestLoopGuard(t *testing.T) {
	e := flowEngine(t, dialplan.WithMaxSteps(50))
	start := time.Now()
	r := apptest.Call(t, e, "demo", "610")
	if !errors.Is(r.Err, dialplan.ErrLoop) {
		t.Fatalf("Run = %v, want ErrLoop", r.Err)
	}
	if !strings.Contains(r.Err.Error(), "@demo:") {
		t.Errorf("error %q does not say where", r.Err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the loop guard took too long")
	}
}

// The caller hangs up during Wait: the dialplan stops, h runs, and its own
// Wait returns at once.
func TestCallerHangsUp(t *testing.T) {
	e := flowEngine(t)
	ch, d := apptest.NewChannel(t)
	ch.SetLocation(channel.Location{Context: "demo", Exten: "608", Priority: 1})
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- e.Run(context.Background(), ch) }()
	time.Sleep(30 * time.Millisecond)
	ch.Gone(channel.CauseNormalClearing)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the hangup")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("h's Wait(10) waited")
	}
	if h, _ := ch.Var("H"); h != "h:16:" {
		t.Errorf("h saw %q", h)
	}
	if hung, _ := d.HungUp(); hung {
		t.Error("the engine signalled a hangup to a channel the far end had hung up")
	}
}

// Run's context ending (a shutdown) ends the call too.
func TestRunContextCancelled(t *testing.T) {
	e := flowEngine(t)
	ch, d := apptest.NewChannel(t)
	ch.SetLocation(channel.Location{Context: "demo", Exten: "608", Priority: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, ch) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run ignored its context")
	}
	if hung, _ := d.HungUp(); !hung {
		t.Error("channel not hung up")
	}
}

func TestTimedInclude(t *testing.T) {
	conf := `
[in]
include => day,9:00-17:00,mon-fri,*,*
include => night
[day]
exten => s,1,Set(R=day)
[night]
exten => s,1,Set(R=night)
`
	for at, want := range map[string]string{"2024-01-03 10:00": "day", "2024-01-03 20:00": "night", "2024-01-06 10:00": "night"} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", at, time.Local)
		e := apptest.Engine(t, conf, dialplan.WithClock(func() time.Time { return now }))
		if r := apptest.Call(t, e, "in", "s"); r.Var("R") != want {
			t.Errorf("at %s: %q, want %q", at, r.Var("R"), want)
		}
	}
}

// Sub runs a subroutine on a channel that is not running the dialplan, as
// Dial's U() option does on the called channel.
func TestSub(t *testing.T) {
	e := apptest.Engine(t, `
[sub-callee]
exten => s,1,Set(GREETED=${ARG1})
 same => n,Return(ok-${ARG2})
exten => noreturn,1,Set(GREETED=x)
`)
	ch, _ := apptest.NewChannel(t)
	ch.SetLocation(channel.Location{Context: "out", Exten: "1000", Priority: 1})
	ret, err := e.Sub(context.Background(), ch, app.Target{Context: "sub-callee", Exten: "s", Priority: "1"}, []string{"hi", "there"})
	if err != nil || ret != "ok-there" {
		t.Fatalf("Sub = %q, %v", ret, err)
	}
	if v, _ := ch.Var("GREETED"); v != "hi" {
		t.Errorf("GREETED = %q", v)
	}
	if loc := ch.Location(); loc != (channel.Location{Context: "out", Exten: "1000", Priority: 1}) {
		t.Errorf("location after Sub = %+v, want it restored", loc)
	}
	if v, ok := ch.Var("ARG1"); ok {
		t.Errorf("ARG1 = %q left behind", v)
	}
	if _, err := e.Sub(context.Background(), ch, app.Target{Context: "sub-callee", Exten: "noreturn", Priority: "1"}, nil); err != nil {
		t.Errorf("Sub without Return: %v", err)
	}
	if _, err := e.Sub(context.Background(), ch, app.Target{Context: "nope", Exten: "s", Priority: "1"}, nil); err == nil {
		t.Error("Sub to nowhere succeeded")
	}
	if err := e.Gosub(context.Background(), ch, app.Target{Priority: "1"}, nil); !errors.Is(err, dialplan.ErrNotRunning) {
		t.Errorf("Gosub outside a run = %v", err)
	}
}

func TestReload(t *testing.T) {
	dp1, _ := apptest.Load(t, "[globals]\nA=1\nB=1\n[c]\nexten => 1,1,Set(R=one)\n")
	dp2, _ := apptest.Load(t, "[globals]\nA=2\n[c]\nexten => 1,1,Set(R=two)\n")
	dp3, _ := apptest.Load(t, "[general]\nclearglobalvars=yes\n[globals]\nC=3\n[c]\n")
	e, err := dialplan.NewEngine(dp1)
	if err != nil {
		t.Fatal(err)
	}
	e.Reload(dp2)
	if r := apptest.Call(t, e, "c", "1"); r.Var("R") != "two" {
		t.Errorf("after reload R = %q", r.Var("R"))
	}
	if a, _ := e.Globals().Global("A"); a != "2" {
		t.Errorf("A = %q", a)
	}
	if b, _ := e.Globals().Global("B"); b != "1" {
		t.Errorf("B = %q, want it kept (clearglobalvars=no)", b)
	}
	e.Reload(dp3)
	if got := e.Globals().All(); len(got) != 1 || got[0] != [2]string{"C", "3"} {
		t.Errorf("globals after clearglobalvars reload = %v", got)
	}
	if e.Dialplan() != dp3 {
		t.Error("Dialplan() is not the reloaded one")
	}
}

// The engine logs each priority like Asterisk's "Executing [...]" verbose
// lines, at debug level with structured fields.
func TestExecutingLog(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dp, _ := apptest.Load(t, "[demo]\nexten => 600,1,NoOp(hello ${EXTEN})\n")
	e, err := dialplan.NewEngine(dp, dialplan.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	reg := channel.NewRegistry(log)
	ch := reg.New("PJSIP", "100", channel.Inbound, &apptest.Driver{})
	ch.SetLocation(channel.Location{Context: "demo", Exten: "600", Priority: 1})
	if err := e.Run(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"msg=executing", "at=600@demo:1", "app=NoOp", `data="hello 600"`, "chan=PJSIP/100-", "source=extensions.conf:2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Many calls at once share the engine (run with -race).
func TestConcurrentCalls(t *testing.T) {
	e := flowEngine(t)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := apptest.Call(t, e, "demo", "609")
			if r.Var("STEP") != "demo/609|demo/700" {
				t.Errorf("STEP = %q", r.Var("STEP"))
			}
		}()
	}
	dp2, _ := apptest.Load(t, flows)
	e.Reload(dp2)
	wg.Wait()
}
