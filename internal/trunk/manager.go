package trunk

import (
	"context"
	"log/slog"
	"reflect"
	"sort"
	"sync"
)

// Manager runs the registration clients of the current configuration.
type Manager struct {
	send Sender
	log  *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // parent of every client; nil until Start
	cancel  context.CancelFunc
	clients map[string]*client
	pending []Spec // Specs given to Sync before Start
	stopped bool
}

// NewManager returns a manager sending through send. Clients start with
// Start (when gopbx listens) and follow Sync afterwards.
func NewManager(send Sender, log *slog.Logger) *Manager {
	return &Manager{send: send, log: log.With("component", "trunk"), clients: map[string]*client{}}
}

func key(s Spec) string { return string(s.Tech) + "/" + s.Name }

// Start starts the clients of the Specs given to Sync so far. Clients
// outlive ctx's cancellation (only its values are kept): they stop in
// Shutdown, which must run while the SIP server can still send the
// un-REGISTERs.
func (m *Manager) Start(ctx context.Context) {
	m.mu.Lock()
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	specs := m.pending
	m.pending = nil
	m.mu.Unlock()
	m.Sync(specs)
}

// Sync makes the running clients match specs: unchanged registrations
// keep their client (and binding), changed ones are un-registered and
// started again, removed ones are un-registered. It returns when the
// stopped clients have un-registered.
func (m *Manager) Sync(specs []Spec) {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	if m.ctx == nil {
		m.pending = specs
		m.mu.Unlock()
		return
	}
	want := make(map[string]Spec, len(specs))
	for _, s := range specs {
		want[key(s)] = s
	}
	var stop []*client
	for k, c := range m.clients {
		if s, ok := want[k]; !ok || !reflect.DeepEqual(s, c.spec) {
			stop = append(stop, c)
			delete(m.clients, k)
		}
	}
	var start []*client
	for k, s := range want {
		if _, ok := m.clients[k]; ok {
			continue
		}
		c := newClient(s, m.send, m.log)
		c.ctx, c.cancel = context.WithCancel(m.ctx)
		m.clients[k] = c
		start = append(start, c)
	}
	m.mu.Unlock()

	stopAll(stop)
	for _, c := range start {
		c.log.Info("registration started", "aor", c.spec.AOR, "expiry", c.spec.Expiry, "pos", c.spec.Pos)
		go c.run(c.ctx)
	}
}

// stopAll stops clients in parallel and waits for their un-REGISTERs.
func stopAll(cs []*client) {
	for _, c := range cs {
		c.cancel()
	}
	for _, c := range cs {
		<-c.done
	}
}

// Statuses returns every registration's status, sorted by tech and name.
func (m *Manager) Statuses() []Status {
	m.mu.Lock()
	out := make([]Status, 0, len(m.clients)+len(m.pending))
	for _, c := range m.clients {
		out = append(out, c.status())
	}
	for _, s := range m.pending {
		out = append(out, Status{Spec: s, State: Unregistered})
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Spec.Tech != out[j].Spec.Tech {
			return out[i].Spec.Tech < out[j].Spec.Tech
		}
		return out[i].Spec.Name < out[j].Spec.Name
	})
	return out
}

// Shutdown un-registers every client and stops them; it returns when
// they are done or ctx ends. Sync does nothing afterwards.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.stopped = true
	cs := make([]*client, 0, len(m.clients))
	for _, c := range m.clients {
		cs = append(cs, c)
	}
	m.clients = map[string]*client{}
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		defer cancel()
	}
	done := make(chan struct{})
	go func() { stopAll(cs); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
