package channel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/lazylog"
)

// Tech creates outbound channels for one technology ("PJSIP", "SIP").
type Tech interface {
	// Request makes a channel for resource ("1000", "100@gw") on behalf of
	// caller (nil when not dialled from a channel). It does not call yet.
	Request(ctx context.Context, reg *Registry, resource string, caller *Channel) (*Channel, error)
}

// ErrUnknownTech is returned by Request for a technology nobody registered.
var ErrUnknownTech = errors.New("channel: unknown technology")

// UpdateKind says what happened to a channel.
type UpdateKind int

const (
	UpdNew UpdateKind = iota
	UpdState
	UpdBridge
	UpdHangup
	// UpdDial: Channel (the caller) requested Peer, a new outbound leg.
	UpdDial
)

// Update is a channel event for subscribers (CDR, AMI, the console).
type Update struct {
	Kind    UpdateKind
	Channel *Channel
	Peer    *Channel // UpdBridge, UpdDial
}

// Registry owns the technologies, names channels and tracks live ones.
type Registry struct {
	log  *slog.Logger
	seq  atomic.Uint32
	mu   sync.RWMutex
	tech map[string]Tech
	live map[*Channel]struct{}
	subs []func(Update)
}

// NewRegistry returns an empty registry.
func NewRegistry(log *slog.Logger) *Registry {
	return &Registry{log: log, tech: map[string]Tech{}, live: map[*Channel]struct{}{}}
}

// RegisterTech makes name ("PJSIP") dialable. Names are case-insensitive.
func (r *Registry) RegisterTech(name string, t Tech) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tech[strings.ToUpper(name)] = t
}

// Subscribe calls f for every update, synchronously: f must be quick.
// Subscribe before any channel exists.
func (r *Registry) Subscribe(f func(Update)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, f)
}

func (r *Registry) publish(u Update) {
	r.mu.RLock()
	subs := r.subs
	r.mu.RUnlock()
	for _, f := range subs {
		f(u)
	}
}

// New creates a channel for a driver. Names follow Asterisk:
// Tech/resource-XXXXXXXX with a per-process sequence.
func (r *Registry) New(tech, resource string, dir Direction, d Driver) *Channel {
	n := r.seq.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	c := &Channel{
		name:     fmt.Sprintf("%s/%s-%08x", tech, resource, n),
		uniqueID: fmt.Sprintf("%d.%d", now.Unix(), n),
		tech:     tech,
		resource: resource,
		dir:      dir,
		driver:   d,
		reg:      r,
		created:  now,
		ctx:      ctx,
		cancel:   cancel,
		vars:     map[string]variable{},
	}
	if dir == Outbound {
		// Only Dial reads events, from the legs it places; an inbound
		// leg's Post drops them (a nil channel is never ready), which
		// saves the buffer on every inbound channel.
		c.events = make(chan Event, 16)
	}
	c.log = lazylog.With(r.log, slog.String("chan", c.name))
	r.mu.Lock()
	r.live[c] = struct{}{}
	r.mu.Unlock()
	r.publish(Update{Kind: UpdNew, Channel: c})
	return c
}

func (r *Registry) remove(c *Channel) {
	r.mu.Lock()
	_, ok := r.live[c]
	delete(r.live, c)
	r.mu.Unlock()
	if ok {
		r.publish(Update{Kind: UpdHangup, Channel: c})
	}
}

// Request creates an outbound channel: "PJSIP", "1000@gw".
func (r *Registry) Request(ctx context.Context, tech, resource string, caller *Channel) (*Channel, error) {
	r.mu.RLock()
	t, ok := r.tech[strings.ToUpper(tech)]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTech, tech)
	}
	ch, err := t.Request(ctx, r, resource, caller)
	if err == nil && caller != nil {
		r.publish(Update{Kind: UpdDial, Channel: caller, Peer: ch})
	}
	return ch, err
}

// Channels returns the live channels, oldest first.
func (r *Registry) Channels() []*Channel {
	r.mu.RLock()
	out := make([]*Channel, 0, len(r.live))
	for c := range r.live {
		out = append(out, c)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

// Find returns the live channel with that name (case-insensitive), or nil.
func (r *Registry) Find(name string) *Channel {
	for _, c := range r.Channels() {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}
