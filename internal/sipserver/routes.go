package sipserver

import (
	"net"
	"strconv"
	"sync"
	"time"
)

// sourceRoutes caches the kernel's choice of source address per remote
// host, for sockets bound to a wildcard address (Asterisk's default
// bind=0.0.0.0): finding it takes a UDP socket, a connect and a close,
// 11 µs and a descriptor, and Advertised runs about three times per call
// (Contact, Via, SDP). Routes change rarely; an entry is trusted for
// routeTTL, and the table is emptied when it grows past routeMax remote
// hosts.
type sourceRoutes struct {
	mu   sync.Mutex
	m    map[string]routeEntry
	dial func(remote string) (string, bool) // the kernel's answer; a field so tests can count
}

type routeEntry struct {
	src     string
	expires time.Time
}

const (
	routeTTL = 10 * time.Second
	routeMax = 16384
)

func newSourceRoutes() *sourceRoutes {
	return &sourceRoutes{m: make(map[string]routeEntry), dial: kernelSource}
}

// kernelSource asks the kernel which source address it would use towards
// remote (host:port): an unconnected-then-connected UDP socket, no packet
// sent.
func kernelSource(remote string) (string, bool) {
	c, err := net.Dial("udp", remote)
	if err != nil {
		return "", false
	}
	defer c.Close()
	src, _, _ := net.SplitHostPort(c.LocalAddr().String())
	return src, true
}

// advertised is Advertised with the wildcard case cached.
func (r *sourceRoutes) advertised(local, remote string) (string, int) {
	h, p, err := net.SplitHostPort(local)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(p)
	if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
		return h, port
	}
	rh, _, err := net.SplitHostPort(remote)
	if err != nil {
		rh = remote
	}
	now := time.Now()
	r.mu.Lock()
	e, ok := r.m[rh]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.src, port
	}
	src, ok := r.dial(remote)
	if !ok {
		return "", port
	}
	r.mu.Lock()
	if len(r.m) >= routeMax {
		clear(r.m)
	}
	r.m[rh] = routeEntry{src: src, expires: now.Add(routeTTL)}
	r.mu.Unlock()
	return src, port
}
