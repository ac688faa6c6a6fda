package security

import (
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event kinds, the "event" field of security log lines (named after
// Asterisk's security events where one exists).
const (
	EventAuthFailed    = "ChallengeResponseFailed"
	EventInvalidAcct   = "InvalidAccountID"
	EventBanned        = "Banned"
	EventRateLimited   = "RateLimited"
	EventScanner       = "ScannerDropped"
	EventUnknownCaller = "UnknownCaller"
	EventOverloaded    = "Overloaded"
)

// Event is one refusal, logged as a structured security event.
type Event struct {
	Kind     string
	Src      string // "ip:port" (or just "ip")
	Username string
	Method   string
	CallID   string
}

// Ban is one banned source.
type Ban struct {
	Addr     netip.Addr
	Reason   string
	Until    time.Time
	Failures int // failures counted when the ban started
}

// Limits on the tables, so a spoofed-source flood cannot grow them without
// bound: when one is full, expired entries are swept and, failing that, an
// arbitrary entry is evicted.
const (
	maxSources   = 1 << 16
	logInterval  = 30 * time.Second // identical events from one source: one line per interval
	bucketIdleTo = time.Minute
)

type failures struct {
	times []time.Time // within the window, oldest first, at most BanAfter
}

type bucket struct {
	tokens float64
	last   time.Time
}

type logKey struct {
	addr netip.Addr
	kind string
}

type logState struct {
	next       time.Time
	suppressed int
}

// Shield holds the ban table, the INVITE rate buckets and the event log
// limiter. Its methods are safe for concurrent use.
type Shield struct {
	log *slog.Logger
	now func() time.Time

	nbans atomic.Int64 // len(bans): Blocked skips the lock while nobody is banned

	mu      sync.Mutex
	cfg     Config
	bans    map[netip.Addr]*Ban
	fails   map[netip.Addr]*failures
	buckets map[netip.Addr]*bucket
	logged  map[logKey]*logState
}

// New returns a Shield with cfg. now is the clock (nil: time.Now).
func New(cfg Config, log *slog.Logger, now func() time.Time) *Shield {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Shield{
		log: log, now: now, cfg: cfg,
		bans:    make(map[netip.Addr]*Ban),
		fails:   make(map[netip.Addr]*failures),
		buckets: make(map[netip.Addr]*bucket),
		logged:  make(map[logKey]*logState),
	}
}

// SetConfig replaces the configuration (reload); bans in force stay.
func (s *Shield) SetConfig(cfg Config) {
	s.mu.Lock()
	s.cfg = cfg
	clear(s.buckets)
	s.mu.Unlock()
}

// Config returns the configuration in force.
func (s *Shield) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// ParseAddr takes "ip", "ip:port" or "[ip]:port" and returns the IP, unmapped.
func ParseAddr(src string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(src); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(src, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (s *Shield) ignored(a netip.Addr) bool {
	for _, p := range s.cfg.Ignore {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Blocked reports whether traffic from a is to be dropped. It is called for
// every packet, so it takes no lock while the ban table is empty.
func (s *Shield) Blocked(a netip.Addr) bool {
	if s.nbans.Load() == 0 {
		return false
	}
	a = a.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bans[a]
	if !ok {
		return false
	}
	if !s.now().Before(b.Until) {
		s.unbanLocked(a)
		s.log.Info("security: ban expired", "event", "BanExpired", "src", a.String())
		return false
	}
	return true
}

// Fail records a failed authentication, logs it, and bans the source when
// it reached BanAfter failures within BanWindow. It reports whether the
// source is banned now.
func (s *Shield) Fail(ev Event) bool {
	s.Log(ev)
	a, ok := ParseAddr(ev.Src)
	if !ok {
		return false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.BanAfter <= 0 || s.ignored(a) {
		return false
	}
	if b, ok := s.bans[a]; ok && now.Before(b.Until) {
		return true
	}
	f := s.fails[a]
	if f == nil {
		cut := now.Add(-s.cfg.BanWindow)
		makeRoom(s.fails, func(f *failures) bool { return len(f.times) == 0 || !f.times[len(f.times)-1].After(cut) })
		f = &failures{}
		s.fails[a] = f
	}
	cut := now.Add(-s.cfg.BanWindow)
	i := 0
	for i < len(f.times) && !f.times[i].After(cut) {
		i++
	}
	f.times = append(f.times[i:], now)
	if len(f.times) < s.cfg.BanAfter {
		return false
	}
	n := len(f.times)
	delete(s.fails, a)
	s.banLocked(a, now.Add(s.cfg.BanTime), "auth failures", n)
	s.log.Warn("security: source banned", "event", EventBanned, "src", a.String(),
		"failures", n, "window", s.cfg.BanWindow.String(), "ban_time", s.cfg.BanTime.String(),
		"username", ev.Username, "method", ev.Method, "call_id", ev.CallID)
	return true
}

// BanFor bans a for d by hand (console, tests).
func (s *Shield) BanFor(a netip.Addr, d time.Duration, reason string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.banLocked(a.Unmap(), now.Add(d), reason, 0)
}

func (s *Shield) banLocked(a netip.Addr, until time.Time, reason string, n int) {
	now := s.now()
	if _, ok := s.bans[a]; !ok {
		if len(s.bans) >= maxSources {
			s.sweepLocked(now)
		}
		if len(s.bans) >= maxSources {
			return // table full of live bans: refuse to grow
		}
		s.nbans.Add(1)
	}
	s.bans[a] = &Ban{Addr: a, Reason: reason, Until: until, Failures: n}
}

func (s *Shield) unbanLocked(a netip.Addr) bool {
	if _, ok := s.bans[a]; !ok {
		return false
	}
	delete(s.bans, a)
	delete(s.fails, a)
	s.nbans.Add(-1)
	return true
}

// Unban lifts the ban on a (and forgets its failures); it reports whether
// a was banned.
func (s *Shield) Unban(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a = a.Unmap()
	delete(s.fails, a)
	return s.unbanLocked(a)
}

// UnbanAll lifts every ban and returns how many there were.
func (s *Shield) UnbanAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.bans)
	clear(s.bans)
	clear(s.fails)
	s.nbans.Store(0)
	return n
}

// Bans returns the bans in force, soonest to expire first.
func (s *Shield) Bans() []Ban {
	now := s.now()
	s.mu.Lock()
	s.sweepLocked(now)
	out := make([]Ban, 0, len(s.bans))
	for _, b := range s.bans {
		out = append(out, *b)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(x, y Ban) int {
		if c := x.Until.Compare(y.Until); c != 0 {
			return c
		}
		return x.Addr.Compare(y.Addr)
	})
	return out
}

// Failures returns the failures counted for a within the window.
func (s *Shield) Failures(a netip.Addr) int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fails[a.Unmap()]
	if f == nil {
		return 0
	}
	n := 0
	for _, t := range f.times {
		if t.After(now.Add(-s.cfg.BanWindow)) {
			n++
		}
	}
	return n
}

// AllowInvite takes a token from a's bucket of new INVITEs. When the bucket
// is empty it returns false and the number of seconds after which the next
// INVITE will be accepted (for Retry-After).
func (s *Shield) AllowInvite(a netip.Addr) (bool, int) {
	now := s.now()
	a = a.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	rate := s.cfg.InviteRate
	if rate <= 0 || s.ignored(a) {
		return true, 0
	}
	burst := math.Max(1, math.Ceil(rate))
	b := s.buckets[a]
	if b == nil {
		makeRoom(s.buckets, func(b *bucket) bool { return now.Sub(b.last) > bucketIdleTo })
		b = &bucket{tokens: burst, last: now}
		s.buckets[a] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, int(math.Ceil((1 - b.tokens) / rate))
}

// Log writes ev as one "security: ..." Warn line, unless an event of the
// same kind from the same source was logged less than logInterval ago;
// the next line that gets through carries the number suppressed.
func (s *Shield) Log(ev Event) {
	a, _ := ParseAddr(ev.Src)
	now := s.now()
	s.mu.Lock()
	k := logKey{a, ev.Kind}
	st := s.logged[k]
	if st != nil && now.Before(st.next) {
		st.suppressed++
		s.mu.Unlock()
		return
	}
	if st == nil {
		makeRoom(s.logged, func(l *logState) bool { return now.After(l.next) })
		st = &logState{}
		s.logged[k] = st
	}
	suppressed := st.suppressed
	st.suppressed = 0
	st.next = now.Add(logInterval)
	s.mu.Unlock()
	attrs := []any{"event", ev.Kind, "src", ev.Src, "username", ev.Username, "method", ev.Method, "call_id", ev.CallID}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	s.log.Warn(message(ev.Kind), attrs...)
}

func message(kind string) string {
	switch kind {
	case EventAuthFailed:
		return "security: authentication failed"
	case EventInvalidAcct:
		return "security: invalid credentials"
	case EventRateLimited:
		return "security: invite rate exceeded"
	case EventScanner:
		return "security: scanner dropped"
	case EventUnknownCaller:
		return "security: unknown caller refused"
	case EventOverloaded:
		return "overload: new call refused, gopbx is behind"
	}
	return "security: request refused"
}

// makeRoom keeps a table under maxSources: it drops expired entries and
// then arbitrary ones.
func makeRoom[K comparable, V any](m map[K]V, expired func(V) bool) {
	if len(m) < maxSources {
		return
	}
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxSources {
			break
		}
		delete(m, k)
	}
}

func (s *Shield) sweepLocked(now time.Time) {
	for a, b := range s.bans {
		if !now.Before(b.Until) {
			s.unbanLocked(a)
		}
	}
}

// Sweep drops expired bans, failure records, idle buckets and log states;
// call it now and then (the tables are bounded without it).
func (s *Shield) Sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	cut := now.Add(-s.cfg.BanWindow)
	for a, f := range s.fails {
		if len(f.times) == 0 || !f.times[len(f.times)-1].After(cut) {
			delete(s.fails, a)
		}
	}
	for a, b := range s.buckets {
		if now.Sub(b.last) > bucketIdleTo {
			delete(s.buckets, a)
		}
	}
	for k, v := range s.logged {
		if now.After(v.next) && v.suppressed == 0 {
			delete(s.logged, k)
		}
	}
}
