package channel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
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
//
// Every call creates and removes channels here, so the per-call paths take
// no registry-wide lock: the live channels are spread over liveShards maps
// with a mutex each (by the channel's sequence number), and the
// technologies and subscribers are copy-on-write snapshots. A single mutex
// here was the B2BUA's ceiling: at 2,000 calls/s on two shared CPUs its
// holder was descheduled often enough to tip the mutex into starvation
// mode, where every unlock hands the lock over and yields, and ~900
// goroutines queued on it while the CPUs idled. (A sync.Map did as well
// but cost ~200 bytes of trie nodes per channel, 400 per held call; a
// shard's map entry is ~20.)
type Registry struct {
	log  *slog.Logger
	seq  atomic.Uint32
	live [liveShards]liveShard

	mu   sync.Mutex // serialises writers of tech and subs
	tech atomic.Pointer[map[string]Tech]
	subs atomic.Pointer[[]func(Update)]
}

const liveShards = 64

type liveShard struct {
	mu sync.Mutex
	m  map[*Channel]struct{}
	_  [48]byte // 64 bytes: one shard per cache line
}

func (r *Registry) shard(c *Channel) *liveShard { return &r.live[c.seq%liveShards] }

// NewRegistry returns an empty registry.
func NewRegistry(log *slog.Logger) *Registry {
	r := &Registry{log: log}
	for i := range r.live {
		r.live[i].m = map[*Channel]struct{}{}
	}
	r.tech.Store(&map[string]Tech{})
	r.subs.Store(&[]func(Update){})
	return r
}

// RegisterTech makes name ("PJSIP") dialable. Names are case-insensitive.
func (r *Registry) RegisterTech(name string, t Tech) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := maps.Clone(*r.tech.Load())
	m[strings.ToUpper(name)] = t
	r.tech.Store(&m)
}

// Subscribe calls f for every update, synchronously: f must be quick.
// Subscribe before any channel exists.
func (r *Registry) Subscribe(f func(Update)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	subs := append(slices.Clip(*r.subs.Load()), f)
	r.subs.Store(&subs)
}

func (r *Registry) publish(u Update) {
	for _, f := range *r.subs.Load() {
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
		name:     channelName(tech, resource, n),
		uniqueID: uniqueID(now, n),
		seq:      n,
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
	c.lh = lazylog.Deferred{Next: r.log, Src: c}
	c.logger = *slog.New(&c.lh)
	sh := r.shard(c)
	sh.mu.Lock()
	sh.m[c] = struct{}{}
	sh.mu.Unlock()
	r.publish(Update{Kind: UpdNew, Channel: c})
	return c
}

// channelName is "tech/resource-%08x" of n, and uniqueID "%d.%d" of the
// unix time and n, without fmt (its boxed arguments and parsing were a
// tenth of a channel's set-up allocations).
func channelName(tech, resource string, n uint32) string {
	var buf [64]byte // one allocation, the string, for the usual names
	b := append(append(append(append(buf[:0], tech...), '/'), resource...), '-')
	var hex [8]byte
	h := strconv.AppendUint(hex[:0], uint64(n), 16)
	for range 8 - len(h) {
		b = append(b, '0')
	}
	return string(append(b, h...))
}

func uniqueID(now time.Time, n uint32) string {
	var b [32]byte
	out := strconv.AppendInt(b[:0], now.Unix(), 10)
	out = strconv.AppendUint(append(out, '.'), uint64(n), 10)
	return string(out)
}

func (r *Registry) remove(c *Channel) {
	sh := r.shard(c)
	sh.mu.Lock()
	_, ok := sh.m[c]
	delete(sh.m, c)
	sh.mu.Unlock()
	if ok {
		r.publish(Update{Kind: UpdHangup, Channel: c})
	}
}

// Request creates an outbound channel: "PJSIP", "1000@gw".
func (r *Registry) Request(ctx context.Context, tech, resource string, caller *Channel) (*Channel, error) {
	t, ok := (*r.tech.Load())[strings.ToUpper(tech)]
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
	var out []*Channel
	for i := range r.live {
		sh := &r.live[i]
		sh.mu.Lock()
		for c := range sh.m {
			out = append(out, c)
		}
		sh.mu.Unlock()
	}
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
