package media

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/rtp"
)

// Config is rtp.conf plus the media timers of the SIP configuration.
type Config struct {
	Start, End int // rtpstart, rtpend
	// Timeout hangs up a call whose far end sent no RTP for this long
	// (rtptimeout / rtp_timeout); HoldTimeout applies while on hold.
	Timeout, HoldTimeout time.Duration
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
}

// NewManager checks the port range.
func NewManager(cfg Config, log *slog.Logger) (*Manager, error) {
	a, err := rtp.NewAllocator(cfg.Start, cfg.End)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return &Manager{alloc: a, cfg: cfg, log: log.With("component", "media"), streams: map[*Stream]func(){}}, nil
}

// Close stops the RTP pollers; close the streams first.
func (m *Manager) Close() { m.alloc.Close() }

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
