// Package dial is the Dial application: it calls one or more destinations
// in parallel, bridges the first that answers and reports DIALSTATUS.
package dial

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Spec is a parsed Dial(...) argument list.
type Spec struct {
	Targets []Target
	Timeout time.Duration // 0: ring until someone answers or gives up
	Options Options
	// Media plays music for the m option; nil: plain 183.
	Media *app.MediaEnv
}

// Target is one Tech/resource.
type Target struct{ Tech, Resource string }

// Options are Dial's option letters that gopbx implements; others are
// accepted and ignored, as unknown letters are in Asterisk.
type Options struct {
	Music       bool   // m: music on hold instead of ringback
	MusicClass  string // m(class)
	Ring        bool   // r: indicate ringing at once
	Continue    bool   // g: go on in the dialplan when the callee hangs up
	CalleeXfer  bool   // t
	CallerXfer  bool   // T
	Unsupported string // letters seen but not implemented, for the log
}

// Parse reads "PJSIP/1000&SIP/gw/100,30,tm(default)".
func Parse(args []string) (Spec, error) {
	var s Spec
	if len(args) == 0 || strings.TrimSpace(args[0]) == "" {
		return s, errors.New("dial: requires an argument (technology/resource)")
	}
	for _, t := range strings.Split(args[0], "&") {
		t = strings.TrimSpace(t)
		tech, res, ok := strings.Cut(t, "/")
		if !ok || tech == "" || res == "" {
			return s, errors.New("dial: bad destination " + strconvQuote(t) + ", want Tech/resource")
		}
		s.Targets = append(s.Targets, Target{Tech: tech, Resource: res})
	}
	if len(args) > 1 && strings.TrimSpace(args[1]) != "" {
		secs, err := strconv.ParseFloat(strings.TrimSpace(args[1]), 64)
		if err != nil || secs < 0 {
			return s, errors.New("dial: bad timeout " + strconvQuote(args[1]))
		}
		s.Timeout = time.Duration(secs * float64(time.Second))
	}
	if len(args) > 2 {
		s.Options = parseOptions(args[2])
	}
	return s, nil
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func parseOptions(o string) Options {
	var opts Options
	for i := 0; i < len(o); i++ {
		c := o[i]
		arg := ""
		if i+1 < len(o) && o[i+1] == '(' {
			if j := strings.IndexByte(o[i+1:], ')'); j >= 0 {
				arg = o[i+2 : i+1+j]
				i += 1 + j
			}
		}
		switch c {
		case 'm':
			opts.Music, opts.MusicClass = true, arg
		case 'r':
			opts.Ring = true
		case 'g':
			opts.Continue = true
		case 't':
			opts.CalleeXfer = true
		case 'T':
			opts.CallerXfer = true
		default:
			opts.Unsupported += string(c)
		}
	}
	return opts
}

// Dialer is what Dial needs from the channel core.
type Dialer interface {
	Request(ctx context.Context, tech, resource string, caller *channel.Channel) (*channel.Channel, error)
}

// ErrHangup tells the engine the call is over (the caller hung up, or the
// callee did and 'g' was not given): run the h extension and stop.
var ErrHangup = app.ErrHangup

type legEvent struct {
	leg *channel.Channel
	ev  channel.Event
}

// Run dials every target at once, rings the caller, bridges the first leg
// that answers and cancels the others. It sets DIALSTATUS (ANSWER, BUSY,
// NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL) and returns nil when the
// dialplan should continue, ErrHangup when it should stop.
func Run(ctx context.Context, dl Dialer, caller *channel.Channel, s Spec) error {
	var legs []*channel.Channel
	busy, congestion, nochan := 0, 0, 0
	var lastCause channel.Cause
	for _, t := range s.Targets {
		leg, err := dl.Request(ctx, t.Tech, t.Resource, caller)
		if err == nil {
			err = leg.Call(ctx)
			if err != nil {
				leg.Hangup(channel.CauseNormalCircuitCongestion)
			}
		}
		if err != nil {
			caller.Log().Info("dial: destination unavailable", "dest", t.Tech+"/"+t.Resource, "error", err)
			var ce *channel.CauseError
			if errors.As(err, &ce) && ce.Cause == channel.CauseUserBusy {
				busy++
				lastCause = ce.Cause
				continue
			}
			nochan++
			lastCause = channel.CauseSubscriberAbsent
			continue
		}
		// Per call, like Asterisk's verbose "Called": not for the INFO log
		// (and its argument boxed only when it is logged).
		if lg := caller.Log(); lg.Enabled(ctx, slog.LevelDebug) {
			lg.Debug("dial: called", "dest", leg.Name())
		}
		legs = append(legs, leg)
	}
	caller.SetVar("DIALSTATUS", "")
	if len(legs) == 0 {
		status := "CHANUNAVAIL"
		if busy > 0 {
			status = "BUSY"
		}
		caller.SetVar("DIALSTATUS", status)
		caller.SetHangupCause(lastCause)
		return nil
	}

	// One leg (the usual Dial) is read directly; several are merged by a
	// forwarder goroutine per leg.
	var single <-chan channel.Event
	var events chan legEvent
	stop := make(chan struct{})
	stopForwarders := sync.OnceFunc(func() { close(stop) })
	defer stopForwarders()
	if len(legs) == 1 {
		single = legs[0].Events()
	} else {
		events = make(chan legEvent, 2*len(legs))
		for _, l := range legs {
			go forward(l, events, stop)
		}
	}

	var timeout <-chan time.Time
	if s.Timeout > 0 {
		t := time.NewTimer(s.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	hangupAll := func(except *channel.Channel, cause channel.Cause) {
		for _, l := range legs {
			if l != except {
				l.Hangup(cause)
			}
		}
	}
	if s.Options.Ring {
		caller.Indicate(ctx, channel.IndRinging)
	} else if s.Options.Music {
		// Music instead of ringback: early media (183) carrying our music.
		caller.Indicate(ctx, channel.IndProgress)
		if s.Media != nil && s.Media.MOH != nil {
			if src, err := s.Media.MOH.Open(s.Options.MusicClass); err == nil {
				if s.Media.StartGenerator(caller, src) == nil {
					defer s.Media.StopGenerator(caller)
				}
			}
		}
	}
	ringing := s.Options.Ring || s.Options.Music
	live := len(legs)
	for {
		var le legEvent
		select {
		case <-caller.Context().Done():
			caller.SetVar("DIALSTATUS", "CANCEL")
			hangupAll(nil, channel.CauseNormalClearing)
			return ErrHangup
		case <-timeout:
			caller.SetVar("DIALSTATUS", "NOANSWER")
			caller.SetHangupCause(channel.CauseNoAnswer)
			hangupAll(nil, channel.CauseNoAnswer)
			return nil
		case ev := <-single:
			le = legEvent{legs[0], ev}
		case le = <-events:
		}
		switch le.ev.Kind {
		case channel.EvRinging:
			if !ringing {
				ringing = true
				caller.Indicate(ctx, channel.IndRinging)
			}
		case channel.EvProgress:
			if len(le.ev.Body) > 0 && !s.Options.Music {
				if sc, ok := caller.Driver().(channel.SDPCarrier); ok {
					sc.SetLocalSDP(le.ev.Body)
				}
				channel.JoinMedia(caller, le.leg) // early media through our relay
				caller.Indicate(ctx, channel.IndProgress)
			}
		case channel.EvAnswer:
			if s.Media != nil {
				s.Media.StopGenerator(caller)
			}
			// The bridge waits on the channels' contexts: the event
			// forwarders would only hold a goroutine per call.
			stopForwarders()
			le.leg.DropEvents()
			return answered(ctx, caller, le.leg, le.ev.Body, s, func() { hangupAll(le.leg, channel.CauseNormalClearing) })
		case channel.EvHangup:
			live--
			lastCause = le.ev.Cause
			switch le.ev.Cause {
			case channel.CauseUserBusy:
				busy++
			case channel.CauseNormalCircuitCongestion, channel.CauseSwitchCongestion, channel.CauseNetworkOutOfOrder,
				channel.CauseNormalTemporaryFailure, channel.CauseRequestedChanUnavail:
				congestion++
			case channel.CauseUnallocated, channel.CauseNoRouteDestination, channel.CauseSubscriberAbsent:
				nochan++
			}
			if live > 0 {
				continue
			}
			status := "NOANSWER"
			switch {
			case busy > 0:
				status = "BUSY"
			case congestion > 0:
				status = "CONGESTION"
			case nochan > 0:
				status = "CHANUNAVAIL"
			}
			caller.SetVar("DIALSTATUS", status)
			caller.SetHangupCause(lastCause)
			return nil
		}
	}
}

// forward copies l's events to events until l hangs up or stop closes.
func forward(l *channel.Channel, events chan<- legEvent, stop <-chan struct{}) {
	evs := l.Events()
	for {
		select {
		case ev := <-evs:
			select {
			case events <- legEvent{l, ev}:
			case <-stop:
				return
			}
			if ev.Kind == channel.EvHangup {
				return
			}
		case <-stop:
			return
		}
	}
}

// answered bridges caller and callee and waits for the call to end.
func answered(ctx context.Context, caller, callee *channel.Channel, sdp []byte, s Spec, cancelOthers func()) error {
	cancelOthers()
	if sc, ok := caller.Driver().(channel.SDPCarrier); ok && len(sdp) > 0 {
		sc.SetLocalSDP(sdp)
	}
	if caller.State() == channel.StateUp && channel.MediaOf(caller) != nil {
		// Anchored and already answered: the bridge joins the two sessions.
	} else if caller.State() == channel.StateUp {
		// Already answered by the dialplan: send the callee's answer as a
		// new offer so media flows end to end.
		if ri, ok := caller.Driver().(channel.Reinviter); ok && len(sdp) > 0 {
			if ans, err := ri.Reinvite(ctx, sdp); err == nil && len(ans) > 0 {
				_ = ans
			}
		}
	} else if err := caller.Answer(ctx); err != nil {
		callee.Hangup(channel.CauseNormalClearing)
		caller.SetVar("DIALSTATUS", "CANCEL")
		return ErrHangup
	}
	caller.SetVar("DIALSTATUS", "ANSWER")
	caller.SetVar("DIALEDPEERNAME", callee.Name())
	caller.SetVar("DIALEDPEERNUMBER", callee.Resource())
	callee.SetConnected(caller.CallerID())
	caller.SetConnected(callee.CallerID())
	channel.Bridge(caller, callee)
	start := time.Now()
	cont := s.Options.Continue
	// The wait for the end of the call runs from the engine's loop (see
	// app.Pending).
	return &app.Pending{Wait: func() error { return waitBridged(caller, callee, start, cont) }}
}

// waitBridged waits until either party hangs up: the caller ends the call,
// the callee ends it too unless cont (the g option) lets the dialplan go
// on. One channel receive rather than a select keeps the parked stack
// small.
func waitBridged(caller, callee *channel.Channel, start time.Time, cont bool) error {
	ended := make(chan *channel.Channel, 2)
	caller.OnHangup(func() { ended <- caller })
	callee.OnHangup(func() { ended <- callee })
	if <-ended == caller {
		callee.Hangup(channel.CauseNormalClearing)
		return ErrHangup
	}
	caller.SetVar("ANSWEREDTIME", strconv.Itoa(int(time.Since(start).Seconds())))
	if cont {
		return nil
	}
	return ErrHangup
}
