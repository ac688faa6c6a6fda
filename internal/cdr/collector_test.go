package cdr_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/channel"
)

// fakeDriver is a channel driver that signals nothing.
type fakeDriver struct{}

func (fakeDriver) Answer(context.Context, *channel.Channel) error                       { return nil }
func (fakeDriver) Indicate(context.Context, *channel.Channel, channel.Indication) error { return nil }
func (fakeDriver) Hangup(*channel.Channel, channel.Cause)                               {}
func (fakeDriver) Call(context.Context, *channel.Channel) error                         { return nil }

// recorder is a backend keeping what it gets.
type recorder struct {
	mu   sync.Mutex
	recs []cdr.Record
	got  chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1000)} }

func (r *recorder) Log(_ context.Context, recs []cdr.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, recs...)
	r.mu.Unlock()
	for range recs {
		r.got <- struct{}{}
	}
	return nil
}

// wait returns the first n records, failing the test if they do not come.
func (r *recorder) wait(t *testing.T, n int) []cdr.Record {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d records, want %d", i, n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cdr.Record(nil), r.recs...)
}

// all returns what was logged so far.
func (r *recorder) all() []cdr.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cdr.Record(nil), r.recs...)
}

type pbx struct {
	t   *testing.T
	reg *channel.Registry
	col *cdr.Collector
	rec *recorder
}

func newPBX(t *testing.T, cfg *cdr.Config, opts ...cdr.Option) *pbx {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &pbx{t: t, reg: channel.NewRegistry(log), rec: newRecorder()}
	if cfg == nil {
		cfg = cdr.Default()
	}
	opts = append([]cdr.Option{cdr.WithLogger(log), cdr.WithBackend("test", p.rec)}, opts...)
	p.col = cdr.New(p.reg, cfg, opts...)
	t.Cleanup(func() { p.shutdown() })
	return p
}

func (p *pbx) shutdown() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.col.Shutdown(ctx); err != nil {
		p.t.Errorf("Shutdown: %v", err)
	}
}

// incoming is a SIP call from 1001 to exten in from-internal, running app.
func (p *pbx) incoming(exten, app, data string) *channel.Channel {
	in := p.reg.New("PJSIP", "1001", channel.Inbound, fakeDriver{})
	in.SetCallerID(channel.CallerID{Name: "Alice", Num: "1001"})
	in.SetAccountCode("acme")
	in.SetState(channel.StateRing)
	in.SetLocation(channel.Location{Context: "from-internal", Exten: exten, Priority: 1})
	in.SetApp(app, data)
	return in
}

// dial does what Dial does up to the far end ringing.
func (p *pbx) dial(in *channel.Channel, resource string) *channel.Channel {
	in.SetVar("DIALSTATUS", "")
	out := p.reg.New("PJSIP", resource, channel.Outbound, fakeDriver{})
	out.Inherit(in)
	out.SetCallerID(in.CallerID())
	p.col.DialBegin(in, out)
	if err := out.Call(context.Background()); err != nil {
		p.t.Fatal(err)
	}
	out.SetState(channel.StateRinging)
	return out
}

// only checks that there is exactly one record and returns it.
func (p *pbx) only() cdr.Record {
	p.t.Helper()
	recs := p.rec.wait(p.t, 1)
	p.shutdown()
	if recs = p.rec.all(); len(recs) != 1 {
		p.t.Fatalf("got %d records, want 1: %+v", len(recs), recs)
	}
	return recs[0]
}

func TestAnsweredCall(t *testing.T) {
	p := newPBX(t, nil)
	in := p.incoming("1002", "Dial", "PJSIP/1002,30")
	out := p.dial(in, "1002")
	out.SetAccountCode("bob-acct")
	out.SetState(channel.StateUp)
	if err := in.Answer(context.Background()); err != nil {
		t.Fatal(err)
	}
	channel.Bridge(in, out)
	in.SetVar(cdr.VarUserField, "vip")
	out.Gone(channel.CauseNormalClearing) // the callee hangs up
	in.SetVar("DIALSTATUS", "ANSWER")
	in.SetLocation(channel.Location{Context: "from-internal", Exten: "1002", Priority: 2})
	in.SetApp("Hangup", "")
	in.Hangup(channel.CauseNormalClearing)
	in.Hangup(channel.CauseNormalClearing) // twice: still one record

	r := p.only()
	want := cdr.Record{
		AccountCode: "acme",
		Src:         "1001",
		Dst:         "1002",
		DContext:    "from-internal",
		CLID:        `"Alice" <1001>`,
		Channel:     in.Name(),
		DstChannel:  out.Name(),
		LastApp:     "Dial",
		LastData:    "PJSIP/1002,30",
		Disposition: cdr.Answered,
		AMAFlags:    "DOCUMENTATION",
		UniqueID:    in.UniqueID(),
		UserField:   "vip",
		PeerAccount: "bob-acct",
		LinkedID:    in.UniqueID(),
	}
	checkRecord(t, r, want)
	if !r.Start.Equal(in.Created()) {
		t.Errorf("Start %v, want the channel's creation %v", r.Start, in.Created())
	}
	if !r.Answer.Equal(in.AnsweredAt()) || r.Answer.IsZero() {
		t.Errorf("Answer %v, want %v", r.Answer, in.AnsweredAt())
	}
	if r.End.Before(r.Answer) {
		t.Errorf("End %v before Answer %v", r.End, r.Answer)
	}
}

// checkRecord compares everything but the times and the sequence.
func checkRecord(t *testing.T, got, want cdr.Record) {
	t.Helper()
	got.Start, got.Answer, got.End = time.Time{}, time.Time{}, time.Time{}
	got.Duration, got.BillSec, got.Sequence = 0, 0, 0
	if got != want {
		t.Errorf("record\n got %+v\nwant %+v", got, want)
	}
}

func TestUnansweredCalls(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*cdr.Config)
		// call runs the call after the caller dialled out; it ends with
		// the caller hung up.
		call func(p *pbx, in, out *channel.Channel)
		want cdr.Disposition
	}{
		{"busy", nil, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseUserBusy) // 486
			in.SetVar("DIALSTATUS", "BUSY")
			in.Hangup(channel.CauseUserBusy)
		}, cdr.Busy},
		{"no answer", nil, func(p *pbx, in, out *channel.Channel) {
			out.Hangup(channel.CauseNoAnswer) // Dial's timeout: CANCEL
			in.SetVar("DIALSTATUS", "NOANSWER")
			in.Hangup(channel.CauseNormalClearing)
		}, cdr.NoAnswer},
		{"caller cancels", nil, func(p *pbx, in, out *channel.Channel) {
			in.Gone(channel.CauseNormalClearing) // the caller's CANCEL
			out.Hangup(channel.CauseNormalClearing)
			in.SetVar("DIALSTATUS", "CANCEL")
		}, cdr.NoAnswer},
		{"caller cancels, cancel disposition", func(c *cdr.Config) { c.CancelDisposition = true }, func(p *pbx, in, out *channel.Channel) {
			in.Gone(channel.CauseNormalClearing)
			out.Hangup(channel.CauseNormalClearing)
			in.SetVar("DIALSTATUS", "CANCEL")
		}, cdr.Cancel},
		{"congestion", nil, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseNormalCircuitCongestion) // 503
			in.SetVar("DIALSTATUS", "CONGESTION")
			in.Hangup(channel.CauseNormalCircuitCongestion)
		}, cdr.Failed},
		{"congestion logged", func(c *cdr.Config) { c.Congestion = true }, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseNormalCircuitCongestion)
			in.SetVar("DIALSTATUS", "CONGESTION")
			in.Hangup(channel.CauseNormalCircuitCongestion)
		}, cdr.Congestion},
		{"chanunavail", func(c *cdr.Config) { c.Congestion = true }, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseSubscriberAbsent)
			in.SetVar("DIALSTATUS", "CHANUNAVAIL")
			in.Hangup(channel.CauseSubscriberAbsent)
		}, cdr.Failed},
		{"no DIALSTATUS: the caller's cause", nil, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseUserBusy)
			in.Hangup(channel.CauseUserBusy)
		}, cdr.Busy},
		{"no cause on the caller: the callee's", nil, func(p *pbx, in, out *channel.Channel) {
			out.Gone(channel.CauseNoRouteDestination)
			in.Gone(0)
		}, cdr.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cdr.Default()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			p := newPBX(t, cfg)
			in := p.incoming("1002", "Dial", "PJSIP/1002,30")
			out := p.dial(in, "1002")
			in.SetLocation(channel.Location{Context: "from-internal", Exten: "1002", Priority: 2})
			in.SetApp("Hangup", "")
			tt.call(p, in, out)
			r := p.only()
			checkRecord(t, r, cdr.Record{
				AccountCode: "acme",
				Src:         "1001",
				Dst:         "1002",
				DContext:    "from-internal",
				CLID:        `"Alice" <1001>`,
				Channel:     in.Name(),
				DstChannel:  out.Name(),
				LastApp:     "Dial",
				LastData:    "PJSIP/1002,30",
				Disposition: tt.want,
				AMAFlags:    "DOCUMENTATION",
				UniqueID:    in.UniqueID(),
				LinkedID:    in.UniqueID(),
			})
			if !r.Answer.IsZero() || r.BillSec != 0 {
				t.Errorf("Answer %v billsec %d, want none", r.Answer, r.BillSec)
			}
		})
	}
}

// Without DialBegin, a bridge still names the other channel.
func TestBridgeWithoutDialBegin(t *testing.T) {
	p := newPBX(t, nil)
	in := p.incoming("1002", "Dial", "PJSIP/1002")
	out := p.reg.New("PJSIP", "1002", channel.Outbound, fakeDriver{})
	out.SetState(channel.StateUp)
	_ = in.Answer(context.Background())
	channel.Bridge(out, in) // either order
	in.Hangup(channel.CauseNormalClearing)
	out.Hangup(channel.CauseNormalClearing)
	r := p.only()
	if r.DstChannel != out.Name() || r.Disposition != cdr.Answered || r.Channel != in.Name() {
		t.Errorf("got channel %q dstchannel %q %v, want %q %q ANSWERED", r.Channel, r.DstChannel, r.Disposition, in.Name(), out.Name())
	}
}

// unanswered=no drops unanswered records that dialled nobody; answered
// ones and those with a dialled channel stay.
func TestUnansweredOption(t *testing.T) {
	for _, unanswered := range []bool{false, true} {
		cfg := cdr.Default()
		cfg.Unanswered = unanswered
		p := newPBX(t, cfg)

		busy := p.incoming("600", "Busy", "")
		busy.Hangup(channel.CauseUserBusy)

		unavail := p.incoming("1009", "Dial", "PJSIP/1009")
		unavail.SetVar("DIALSTATUS", "CHANUNAVAIL") // no channel was created
		unavail.Hangup(channel.CauseNormalClearing)

		played := p.incoming("700", "Playback", "hello-world")
		_ = played.Answer(context.Background())
		played.Hangup(channel.CauseNormalClearing)

		p.shutdown()
		var got []string
		for _, r := range p.rec.all() {
			got = append(got, r.Dst+" "+r.Disposition.String())
		}
		want := "700 ANSWERED"
		if unanswered {
			want = "600 BUSY, 1009 FAILED, 700 ANSWERED"
		}
		if g := strings.Join(got, ", "); g != want {
			t.Errorf("unanswered=%v: got %q, want %q", unanswered, g, want)
		}
		if s := p.col.Stats(); !unanswered && s.Suppressed != 2 {
			t.Errorf("Suppressed = %d, want 2", s.Suppressed)
		}
	}
}

// The cause decides when nothing else does, as cdr_object_set_disposition.
func TestCauseDisposition(t *testing.T) {
	tests := []struct {
		cause channel.Cause
		cfg   func(*cdr.Config)
		want  cdr.Disposition
	}{
		{channel.CauseUserBusy, nil, cdr.Busy},
		{channel.CauseNormalCircuitCongestion, nil, cdr.Failed},
		{channel.CauseNormalCircuitCongestion, func(c *cdr.Config) { c.Congestion = true }, cdr.Congestion},
		{channel.CauseNoRouteDestination, nil, cdr.Failed},
		{channel.CauseSubscriberAbsent, nil, cdr.Failed},
		{channel.CauseNormalClearing, nil, cdr.NoAnswer},
		{channel.CauseNoAnswer, nil, cdr.NoAnswer},
		{channel.CauseNoUserResponse, nil, cdr.NoAnswer},
		{channel.CauseCallRejected, nil, cdr.NoAnswer}, // unset in Asterisk, logged as NO ANSWER
		{0, nil, cdr.Failed},
	}
	for _, tt := range tests {
		cfg := cdr.Default()
		cfg.Unanswered = true
		if tt.cfg != nil {
			tt.cfg(cfg)
		}
		p := newPBX(t, cfg)
		in := p.incoming("s", "Wait", "10")
		in.Gone(tt.cause) // Gone records the cause as is, 0 included
		if r := p.only(); r.Disposition != tt.want {
			t.Errorf("cause %d: %v, want %v", tt.cause, r.Disposition, tt.want)
		}
	}
}

// The h extension does not change the record; Dial locks lastapp and dst.
func TestDialLocksAppAndExten(t *testing.T) {
	p := newPBX(t, nil)
	in := p.incoming("s", "Answer", "")
	_ = in.Answer(context.Background()) // seen at s, Answer
	in.SetLocation(channel.Location{Context: "sales", Exten: "200", Priority: 3})
	in.SetApp("Dial", "PJSIP/200&PJSIP/201,20")
	out := p.dial(in, "200")
	out.SetState(channel.StateUp)
	channel.Bridge(in, out)
	in.SetLocation(channel.Location{Context: "sales", Exten: "300", Priority: 1})
	in.SetApp("Playback", "goodbye")
	in.SetVar(cdr.VarAMAFlags, "BILLING")
	out.Gone(channel.CauseNormalClearing)
	in.SetLocation(channel.Location{Context: "sales", Exten: "h", Priority: 1})
	in.SetApp("NoOp", "in h")
	in.Hangup(channel.CauseNormalClearing)
	r := p.only()
	if r.Dst != "200" || r.DContext != "sales" || r.LastApp != "Dial" || r.LastData != "PJSIP/200&PJSIP/201,20" || r.AMAFlags != "BILLING" {
		t.Errorf("got dst %s@%s app %s(%s) ama %s, want 200@sales Dial(PJSIP/200&PJSIP/201,20) BILLING",
			r.Dst, r.DContext, r.LastApp, r.LastData, r.AMAFlags)
	}
}

// Without Dial the record follows the channel until hangup, h excluded.
func TestFollowsDialplan(t *testing.T) {
	cfg := cdr.Default()
	cfg.Unanswered = true
	p := newPBX(t, cfg)
	in := p.incoming("s", "Answer", "")
	_ = in.Answer(context.Background())
	in.SetLocation(channel.Location{Context: "ivr", Exten: "2", Priority: 1})
	in.SetApp("VoiceMail", "2000@default")
	in.SetState(channel.StateUp) // an update: the collector looks
	// The engine may already run h when the hangup is published.
	in.SetLocation(channel.Location{Context: "ivr", Exten: "h", Priority: 1})
	in.SetApp("NoOp", "")
	in.Gone(channel.CauseNormalClearing)
	r := p.only()
	if r.Dst != "2" || r.DContext != "ivr" || r.LastApp != "VoiceMail" || r.LastData != "2000@default" {
		t.Errorf("got %s@%s %s(%s), want 2@ivr VoiceMail(2000@default)", r.Dst, r.DContext, r.LastApp, r.LastData)
	}
}

// Outbound channels nobody dialled (originate) get no record either.
func TestOutboundOnly(t *testing.T) {
	p := newPBX(t, nil)
	out := p.reg.New("PJSIP", "1002", channel.Outbound, fakeDriver{})
	out.SetState(channel.StateUp)
	out.Hangup(channel.CauseNormalClearing)
	p.shutdown()
	if recs := p.rec.all(); len(recs) != 0 {
		t.Errorf("got %d records, want none: %+v", len(recs), recs)
	}
}

// Shutdown ends the calls still up.
func TestShutdownEndsLiveCalls(t *testing.T) {
	p := newPBX(t, nil)
	in := p.incoming("1002", "Dial", "PJSIP/1002")
	out := p.dial(in, "1002")
	out.SetState(channel.StateUp)
	_ = in.Answer(context.Background())
	channel.Bridge(in, out)
	p.shutdown()
	recs := p.rec.all()
	if len(recs) != 1 || recs[0].Disposition != cdr.Answered || recs[0].End.IsZero() {
		t.Fatalf("got %+v, want one ANSWERED record", recs)
	}
	in.Hangup(channel.CauseNormalClearing) // after Shutdown: ignored
	if n := len(p.rec.all()); n != 1 {
		t.Errorf("%d records after a hangup past Shutdown, want 1", n)
	}
}

// ringAndHangUp places calls unanswered incoming calls, spread over
// workers goroutines running at once; each call publishes rings ringing
// updates, then its hangup.
func (p *pbx) ringAndHangUp(workers, calls, rings int) {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < calls/workers; j++ {
				in := p.incoming("1002", "Dial", "PJSIP/1002")
				for range rings {
					in.SetState(channel.StateRinging)
				}
				in.Hangup(channel.CauseNormalClearing)
			}
		}()
	}
	wg.Wait()
}

// A full queue drops updates but never a hangup, so every call still gets
// its record.
func TestQueueFull(t *testing.T) {
	cfg := cdr.Default()
	cfg.Unanswered = true
	p := newPBX(t, cfg, cdr.WithQueueSize(1))
	const calls = 300
	p.ringAndHangUp(10, calls, 1)
	recs := p.rec.wait(t, calls)
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.UniqueID] {
			t.Errorf("two records for %s", r.UniqueID)
		}
		seen[r.UniqueID] = true
	}
	if len(recs) != calls {
		t.Errorf("got %d records, want %d", len(recs), calls)
	}
	t.Logf("dropped %d updates", p.col.Stats().Dropped)
}

// Updates are handled in the order they were published, also when the
// queue is full: a hangup that found it full was once handled before the
// updates queued ahead of it, which then started the channel's call again,
// and Shutdown logged a second record for it.
func TestQueueFullKeepsOrder(t *testing.T) {
	cfg := cdr.Default()
	cfg.Unanswered = true
	p := newPBX(t, cfg, cdr.WithQueueSize(8))
	const calls = 400
	p.ringAndHangUp(8, calls, 5)
	p.rec.wait(t, calls)
	p.shutdown()
	recs := p.rec.all()
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.UniqueID]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%d records for %s", n, id)
		}
	}
	if len(recs) != calls {
		t.Errorf("got %d records, want %d", len(recs), calls)
	}
}

// The collector reuses the slices it hands the backends (Backend.Log), but
// never one a backend is still reading, empty flushes in batch mode
// included.
func TestBackendBatchStable(t *testing.T) {
	cfg := cdr.Default()
	cfg.Unanswered = true
	cfg.Batch = true
	cfg.BatchSize = 2
	cfg.BatchTime = 5 * time.Millisecond
	var calls atomic.Int64
	changed := make(chan string, 1)
	check := cdr.BackendFunc(func(ctx context.Context, recs []cdr.Record) error {
		ids := make([]string, len(recs))
		for i := range recs {
			ids[i] = recs[i].UniqueID
		}
		calls.Add(1)
		time.Sleep(10 * time.Millisecond) // while more records come
		for i := range recs {
			if recs[i].UniqueID != ids[i] {
				select {
				case changed <- fmt.Sprintf("record %d of a batch changed from %s to %s while Log ran", i, ids[i], recs[i].UniqueID):
				default:
				}
			}
		}
		return nil
	})
	p := newPBX(t, cfg, cdr.WithBackend("check", check))
	deadline := time.Now().Add(time.Second)
	for n := 0; calls.Load() < 20 && time.Now().Before(deadline); n++ {
		p.incoming("1002", "Wait", "1").Hangup(channel.CauseNormalClearing)
		if n%10 == 0 {
			time.Sleep(15 * time.Millisecond) // let empty batches pass
		}
	}
	p.shutdown()
	select {
	case msg := <-changed:
		t.Error(msg)
	default:
	}
}

// The subscriber never blocks the publisher, even when the backend hangs.
func TestSlowBackendDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	slow := cdr.BackendFunc(func(ctx context.Context, recs []cdr.Record) error {
		<-release
		return nil
	})
	cfg := cdr.Default()
	cfg.Unanswered = true
	p := newPBX(t, cfg, cdr.WithBackend("slow", slow))
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			p.incoming("1002", "Wait", "1").Hangup(channel.CauseNormalClearing)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("hangups blocked behind a slow backend")
	}
	close(release)
	p.rec.wait(t, 100)
}

func TestDisabled(t *testing.T) {
	cfg := cdr.Default()
	cfg.Enable = false
	p := newPBX(t, cfg)
	in := p.incoming("1002", "Answer", "")
	_ = in.Answer(context.Background())
	in.Hangup(channel.CauseNormalClearing)
	p.shutdown()
	if n := len(p.rec.all()); n != 0 {
		t.Errorf("enable=no logged %d records", n)
	}
}

// In batch mode records wait until size are there or time has passed.
func TestBatchMode(t *testing.T) {
	cfg := cdr.Default()
	cfg.Unanswered = true
	cfg.Batch = true
	cfg.BatchSize = 3
	cfg.BatchTime = time.Hour
	p := newPBX(t, cfg)
	hangup := func() { p.incoming("1002", "Wait", "1").Hangup(channel.CauseNormalClearing) }
	hangup()
	hangup()
	time.Sleep(50 * time.Millisecond)
	if n := len(p.rec.all()); n != 0 {
		t.Fatalf("%d records written before the batch was full", n)
	}
	hangup()
	p.rec.wait(t, 3)

	cfg = cdr.Default()
	cfg.Unanswered = true
	cfg.Batch = true
	cfg.BatchSize = 100
	cfg.BatchTime = 20 * time.Millisecond
	p = newPBX(t, cfg)
	p.incoming("1002", "Wait", "1").Hangup(channel.CauseNormalClearing)
	p.rec.wait(t, 1) // by time
}

func BenchmarkUpdate(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := channel.NewRegistry(log)
	col := cdr.New(reg, cdr.Default(), cdr.WithLogger(log), cdr.WithQueueSize(1<<20))
	defer col.Shutdown(context.Background())
	in := reg.New("PJSIP", "1001", channel.Inbound, fakeDriver{})
	in.SetLocation(channel.Location{Context: "from-internal", Exten: "1002", Priority: 1})
	in.SetApp("Dial", "PJSIP/1002,30")
	b.ReportAllocs()
	for b.Loop() {
		in.SetState(channel.StateRing) // publishes one update
	}
}

// fakeTech makes outbound channels, as chansip's Tech does.
type fakeTech struct{}

func (fakeTech) Request(ctx context.Context, reg *channel.Registry, resource string, caller *channel.Channel) (*channel.Channel, error) {
	return reg.New("PJSIP", resource, channel.Outbound, fakeDriver{}), nil
}

// WrapRequester reports the channels Dial creates, as DialBegin.
func TestWrapRequester(t *testing.T) {
	p := newPBX(t, nil)
	p.reg.RegisterTech("PJSIP", fakeTech{})
	dialer := p.col.WrapRequester(p.reg)
	in := p.incoming("1002", "Dial", "PJSIP/1002")
	out, err := dialer.Request(context.Background(), "PJSIP", "1002", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialer.Request(context.Background(), "IAX2", "1002", in); err == nil {
		t.Fatal("Request(IAX2): no error")
	}
	out.Gone(channel.CauseNoAnswer)
	in.SetVar("DIALSTATUS", "NOANSWER")
	in.Hangup(channel.CauseNormalClearing)
	if r := p.only(); r.DstChannel != out.Name() || r.Disposition != cdr.NoAnswer {
		t.Errorf("dstchannel %q %v, want %q NO ANSWER", r.DstChannel, r.Disposition, out.Name())
	}
}
