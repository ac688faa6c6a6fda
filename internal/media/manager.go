package media

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/kfwd"
	"github.com/gopbx/gopbx/internal/rtp"
)

// Config is rtp.conf plus the media timers of the SIP configuration.
type Config struct {
	Start, End int // rtpstart, rtpend
	// Timeout hangs up a call whose far end sent no RTP for this long
	// (rtptimeout / rtp_timeout); HoldTimeout applies while on hold.
	Timeout, HoldTimeout time.Duration
	// KernelTable, when set, forwards bridged RTP that needs no
	// inspection in the kernel through this nftables table (rtp.conf
	// kernelforward=yes, kerneltable=; kernel.go).
	KernelTable string
}

// DefaultConfig is Asterisk's rtp.conf default range with timers off.
func DefaultConfig() Config { return Config{Start: 10000, End: 20000} }

// Manager allocates streams and watches them for RTP timeouts.
type Manager struct {
	alloc *rtp.Allocator
	cfg   Config
	log   *slog.Logger

	mu      sync.Mutex
	streams map[*Stream]func() // stream → timeout action

	// In-kernel forwarding; kf is nil when off or unavailable.
	kf     *kfwd.Forwarder
	kreqs  chan *Stream // offload requests; never closed: a poller may still hold a stream at Close
	kstop  chan struct{}
	kdone  chan struct{}
	kmu    sync.Mutex
	kpairs map[*kpair]struct{}
}

// NewManager checks the port range.
func NewManager(cfg Config, log *slog.Logger) (*Manager, error) {
	a, err := rtp.NewAllocator(cfg.Start, cfg.End)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	m := &Manager{alloc: a, cfg: cfg, log: log.With("component", "media"), streams: map[*Stream]func(){}}
	if cfg.KernelTable != "" {
		kf, err := kfwd.Open(cfg.KernelTable)
		if err != nil {
			// The relay works without it: say so and go on in user space.
			m.log.Warn("RTP in-kernel forwarding off (kernelforward=yes needs Linux nf_tables and CAP_NET_ADMIN)", "err", err)
		} else {
			m.kf, m.kreqs, m.kpairs = kf, make(chan *Stream, 256), map[*kpair]struct{}{}
			m.kstop, m.kdone = make(chan struct{}), make(chan struct{})
			go m.kernelWorker()
			m.log.Info("RTP in-kernel forwarding on", "table", "ip "+kf.Table())
		}
	}
	return m, nil
}

// Kernel reports whether in-kernel forwarding is on and how many bridges
// it carries now.
func (m *Manager) Kernel() (on bool, pairs int) {
	if m.kf == nil {
		return false, 0
	}
	m.kmu.Lock()
	defer m.kmu.Unlock()
	return true, len(m.kpairs)
}

// KernelIPv6 reports whether IPv6 calls go in the kernel too (the ip6
// table).
func (m *Manager) KernelIPv6() bool { return m.kf != nil && m.kf.IPv6() }

// Close stops the RTP pollers and removes the kernel's forwarding table;
// close the streams first.
func (m *Manager) Close() {
	if m.kf != nil {
		close(m.kstop)
		<-m.kdone
		if err := m.kf.Close(); err != nil {
			m.log.Warn("RTP in-kernel forwarding", "err", err)
		}
	}
	m.alloc.Close()
}

// Config returns the configuration in use.
func (m *Manager) Config() Config { return m.cfg }

// NewStream opens a stream on ip (the address SIP arrived on). onTimeout,
// if not nil, is called once when the far end stops sending RTP for
// longer than the configured timeout.
func (m *Manager) NewStream(ip netip.Addr, o Options, onTimeout func()) (*Stream, error) {
	sess, err := m.alloc.Open(ip)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	if o.Log == nil {
		o.Log = m.log
	}
	s := newStream(m, sess, o)
	m.mu.Lock()
	m.streams[s] = onTimeout
	m.mu.Unlock()
	return s, nil
}

func (m *Manager) forget(s *Stream) {
	m.mu.Lock()
	delete(m.streams, s)
	m.mu.Unlock()
}

// Count is the number of open streams.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.streams)
}

// Run checks RTP timeouts once a second until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	started := map[*Stream]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if m.kf != nil {
				m.syncKernel()
			}
			m.alloc.Expire(now)
			var fire []func()
			m.mu.Lock()
			for s, f := range m.streams {
				limit := first(s.opts.Timeout, m.cfg.Timeout)
				if d := s.Direction(); d == SendOnly || d == Inactive {
					limit = first(s.opts.HoldTimeout, m.cfg.HoldTimeout)
				}
				if limit <= 0 || f == nil {
					continue
				}
				last := s.sess.LastReceived()
				if last.IsZero() {
					if _, ok := started[s]; !ok {
						started[s] = now
					}
					last = started[s]
				}
				if now.Sub(last) > limit {
					fire = append(fire, f)
					m.streams[s] = nil
				}
			}
			for s := range started {
				if _, ok := m.streams[s]; !ok {
					delete(started, s)
				}
			}
			m.mu.Unlock()
			for _, f := range fire {
				f()
			}
		}
	}
}

// first returns a unless it is zero, else b.
func first(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}
