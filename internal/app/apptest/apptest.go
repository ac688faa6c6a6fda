// Package apptest helps test dialplan applications and the engine without
// SIP: a Driver that records what the dialplan does to a channel, and
// helpers that load an extensions.conf snippet and run a call through it.
package apptest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/dialplan"
)

// Driver is a channel.Driver that records calls. Its zero value is ready.
type Driver struct {
	mu          sync.Mutex
	answers     int
	indications []channel.Indication
	hungUp      bool
	cause       channel.Cause
	// Headers are what Header returns (PJSIP_HEADER).
	Headers map[string]string
}

// Answer records an answer.
func (d *Driver) Answer(context.Context, *channel.Channel) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answers++
	return nil
}

// Indicate records an indication.
func (d *Driver) Indicate(_ context.Context, _ *channel.Channel, ind channel.Indication) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.indications = append(d.indications, ind)
	return nil
}

// Hangup records the hangup and its cause.
func (d *Driver) Hangup(_ *channel.Channel, cause channel.Cause) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hungUp, d.cause = true, cause
}

// Header implements channel.HeaderReader from Headers.
func (d *Driver) Header(name string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, v := range d.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Answers is how many times the channel was answered through the driver.
func (d *Driver) Answers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.answers
}

// Indications returns the indications sent, in order.
func (d *Driver) Indications() []channel.Indication {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]channel.Indication(nil), d.indications...)
}

// HungUp returns whether Hangup was called and with which cause.
func (d *Driver) HungUp() (bool, channel.Cause) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hungUp, d.cause
}

// NewChannel returns an inbound channel "PJSIP/100-..." on a new registry,
// in state Ring, with its recording driver.
func NewChannel(t testing.TB) (*channel.Channel, *Driver) {
	t.Helper()
	reg := channel.NewRegistry(slog.New(slog.DiscardHandler))
	d := &Driver{}
	ch := reg.New("PJSIP", "100", channel.Inbound, d)
	ch.SetState(channel.StateRing)
	t.Cleanup(func() { ch.Hangup(0) })
	return ch, d
}

// Load parses conf as extensions.conf and fails the test on a fatal
// error. It returns the warnings as "file:line: message" strings.
func Load(t testing.TB, conf string) (*dialplan.Dialplan, []string) {
	t.Helper()
	dp, diags, err := dialplan.Parse("extensions.conf", []byte(conf))
	if err != nil {
		t.Fatalf("loading extensions.conf: %v", err)
	}
	var warns []string
	for _, d := range diags {
		warns = append(warns, d.Error())
	}
	return dp, warns
}

// Engine loads conf and returns an engine for it, failing the test on any
// warning. The engine logs to the test log at debug level.
func Engine(t testing.TB, conf string, opts ...dialplan.Option) *dialplan.Engine {
	t.Helper()
	dp, warns := Load(t, conf)
	for _, w := range warns {
		t.Errorf("warning loading extensions.conf: %s", w)
	}
	opts = append([]dialplan.Option{dialplan.WithLogger(Logger(t))}, opts...)
	e, err := dialplan.NewEngine(dp, opts...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// Logger returns a debug-level logger writing to t.Log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Result is what a call run through Call left behind.
type Result struct {
	Ch     *channel.Channel
	Driver *Driver
	Err    error // what Run returned
}

// Var returns a channel variable after the call.
func (r Result) Var(name string) string {
	v, _ := r.Ch.Var(name)
	return v
}

// Call runs a new channel through e from context,exten,1 and waits for
// Run to return (at most 10 s). setup, if given, prepares the channel
// (caller ID, variables) before the run.
func Call(t testing.TB, e *dialplan.Engine, context_, exten string, setup ...func(*channel.Channel)) Result {
	t.Helper()
	ch, d := NewChannel(t)
	ch.SetLocation(channel.Location{Context: context_, Exten: exten, Priority: 1})
	for _, f := range setup {
		f(ch)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), ch) }()
	select {
	case err := <-done:
		return Result{Ch: ch, Driver: d, Err: err}
	case <-time.After(10 * time.Second):
		t.Fatalf("Run(%s@%s) did not return", exten, context_)
		return Result{}
	}
}

// Warnings returns the diagnostics' messages.
func Warnings(diags []config.Diag) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Error())
	}
	return out
}

// CheckSetup verifies that application name is registered and that its
// factory builds an application, as every app's setup_test.go does.
func CheckSetup(t testing.TB, name string) {
	t.Helper()
	f, canonical, ok := app.Lookup(name)
	if !ok {
		t.Fatalf("application %s is not registered", name)
	}
	if canonical != name {
		t.Errorf("application registered as %q, want %q", canonical, name)
	}
	dp, _ := Load(t, "[default]\nexten => s,1,NoOp()\n")
	e, err := dialplan.NewEngine(dp, dialplan.WithLogger(Logger(t)))
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	a, err := f(&app.Env{
		Channels: channel.NewRegistry(Logger(t)),
		Log:      Logger(t),
		Dialplan: e,
		Vars:     e,
		Now:      time.Now,
	})
	if err != nil || a == nil {
		t.Fatalf("factory of %s = %v, %v", name, a, err)
	}
}

// HangupApp tests an application that ends the call with an indication,
// as Busy and Congestion do: on an unanswered call, app() indicates ind
// and hangs up with cause, which the h extension sees as HANGUPCAUSE and
// nothing after it runs; on an answered call, app(0.05) hangs up with
// normal clearing. The test must register app, Answer and NoOp.
func HangupApp(t *testing.T, app string, cause channel.Cause, ind channel.Indication) {
	t.Helper()
	e := Engine(t, fmt.Sprintf(`
[demo]
exten => 1,1,%[1]s()
 same => n,NoOp(not reached)
exten => 2,1,Answer()
 same => n,%[1]s(0.05)
exten => h,1,NoOp(cause ${HANGUPCAUSE})
`, app))
	r := Call(t, e, "demo", "1")
	if r.Err != nil {
		t.Fatalf("Run: %v", r.Err)
	}
	if hung, got := r.Driver.HungUp(); !hung || got != cause {
		t.Errorf("%s: hung up %v with cause %d, want %d", app, hung, got, cause)
	}
	if got := r.Driver.Indications(); !reflect.DeepEqual(got, []channel.Indication{ind}) {
		t.Errorf("%s: indications = %v, want [%v]", app, got, ind)
	}
	if _, data := r.Ch.App(); data != fmt.Sprintf("cause %d", cause) {
		t.Errorf("%s: h saw %q, want cause %d", app, data, cause)
	}
	r = Call(t, e, "demo", "2")
	if hung, got := r.Driver.HungUp(); !hung || got != channel.CauseNormalClearing {
		t.Errorf("%s on an answered call: hung up %v with cause %d, want normal clearing", app, hung, got)
	}
}
