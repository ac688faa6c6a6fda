package sipserver

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sipgo's tracing hook is package-level (sip.SIPDebug and SIPDebugTracer).
// It is switched on once, before any transport reads, and fans out to every
// Server's tracer; each tracer drops messages cheaply while debug is off.
var (
	traceOnce sync.Once
	traceMu   sync.Mutex
	tracers   atomic.Pointer[[]*tracer]
)

type fanout struct{}

// SIPTraceOn tells sipgo's transports whether any tracer is on; while none
// is they do not format the addresses of every message for it.
func (fanout) SIPTraceOn() bool {
	if ts := tracers.Load(); ts != nil {
		for _, t := range *ts {
			if t.on.Load() {
				return true
			}
		}
	}
	return false
}

func (fanout) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	if ts := tracers.Load(); ts != nil {
		for _, t := range *ts {
			t.trace(false, transport, laddr, raddr, msg)
		}
	}
}

func (fanout) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	if ts := tracers.Load(); ts != nil {
		for _, t := range *ts {
			t.trace(true, transport, laddr, raddr, msg)
		}
	}
}

// retainCompleted is how long a completed transaction absorbs
// retransmissions.
const retainCompleted = 8 * time.Second

type tracer struct {
	log     *slog.Logger
	on      atomic.Bool
	filter  atomic.Pointer[[]string] // remote IPs; nil = all
	sink    atomic.Pointer[func(string)]
	ownAddr atomic.Pointer[[]string]
}

func newTracer(log *slog.Logger) *tracer {
	t := &tracer{log: log}
	traceOnce.Do(func() {
		sip.SIPDebug = true
		sip.SIPDebugTracer(fanout{})
		// sipgo refuses to send UDP messages over 1300 bytes (it would want
		// TCP, RFC 3261 §18.1.1) and drops them silently, which loses a 200
		// OK whose SDP lists many codecs. Asterisk (disable_tcp_switch=yes)
		// sends them and lets IP fragment; so do we.
		sip.UDPMTUSize = 65535
		// Completed transactions wait 64×T1 = 32 s for retransmissions in
		// sipgo (RFC 3261's timers J, L, M, D). That keeps every call's
		// transactions in memory for half a minute: at 1,000 calls/s the
		// GC scans ~30,000 calls' worth of state. Kamailio's tm keeps them
		// 5 s (wt_timer); 8 s, as our fast path's retransmission cache, still
		// absorbs every retransmission a phone sends after our answer.
		sip.Timer_J = retainCompleted
		sip.Timer_L = retainCompleted
		sip.Timer_M = retainCompleted
		sip.Timer_D = retainCompleted
	})
	traceMu.Lock()
	var next []*tracer
	if cur := tracers.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, t)
	tracers.Store(&next)
	traceMu.Unlock()
	return t
}

func (t *tracer) close() {
	traceMu.Lock()
	defer traceMu.Unlock()
	if cur := tracers.Load(); cur != nil {
		next := slices.DeleteFunc(slices.Clone(*cur), func(x *tracer) bool { return x == t })
		tracers.Store(&next)
	}
}

func (t *tracer) trace(out bool, transport, laddr, raddr string, msg []byte) {
	if !t.on.Load() {
		return
	}
	host, _, err := net.SplitHostPort(raddr)
	if err != nil {
		host = raddr
	}
	if f := t.filter.Load(); f != nil && !slices.Contains(*f, host) {
		return
	}
	kind := "request"
	if bytes.HasPrefix(msg, []byte("SIP/2.0 ")) {
		kind = "response"
	}
	var head string
	if out {
		head = fmt.Sprintf("<--- Transmitting SIP %s (%d bytes) to %s:%s --->", kind, len(msg), transport, raddr)
	} else {
		head = fmt.Sprintf("<--- Received SIP %s (%d bytes) from %s:%s --->", kind, len(msg), transport, raddr)
	}
	text := head + "\n" + string(msg)
	t.log.Info("sip trace", "call_id", rawCallID(msg), "dir", map[bool]string{true: "out", false: "in"}[out],
		"transport", transport, "local", laddr, "remote", raddr, "msg", string(msg))
	if s := t.sink.Load(); s != nil {
		(*s)(text)
	}
}

// rawCallID finds the Call-ID in an unparsed message for log correlation.
func rawCallID(msg []byte) string {
	for _, line := range bytes.Split(msg, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, []byte("Call-ID")) || bytes.Equal(name, []byte("i")) {
			return string(bytes.TrimSpace(val))
		}
	}
	return ""
}

// Tracer is the console's handle on message tracing.
type Tracer struct{ t *tracer }

// Enable turns tracing on for all peers (ips empty) or only the given IPs.
func (tr *Tracer) Enable(ips ...string) {
	if len(ips) == 0 {
		tr.t.filter.Store(nil)
	} else {
		cp := slices.Clone(ips)
		tr.t.filter.Store(&cp)
	}
	tr.t.on.Store(true)
}

// Disable stops tracing.
func (tr *Tracer) Disable() { tr.t.on.Store(false) }

// Status describes the tracing state for `sip show settings`.
func (tr *Tracer) Status() string {
	if !tr.t.on.Load() {
		return "off"
	}
	if f := tr.t.filter.Load(); f != nil {
		return fmt.Sprintf("on (%v)", *f)
	}
	return "on"
}

// SetSink sends each traced message, formatted like Asterisk's pjsip logger,
// to f (the console broadcast).
func (tr *Tracer) SetSink(f func(string)) { tr.t.sink.Store(&f) }
