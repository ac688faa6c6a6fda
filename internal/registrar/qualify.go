package registrar

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/sipserver"
)

// Reachability is a contact's qualify state, named as Asterisk shows it.
type Reachability string

const (
	Unknown     Reachability = "Unknown"
	Reachable   Reachability = "Reachable"
	Unreachable Reachability = "Unreachable"
)

// ContactStatus is the last qualify result of one contact.
type ContactStatus struct {
	Status  Reachability
	RTT     time.Duration
	Checked time.Time
}

// Qualifier pings registered contacts with OPTIONS (qualify=yes,
// qualify_frequency) and records their reachability and round-trip time.
type Qualifier struct {
	rg     *Registrar
	client *sipgo.Client
	log    *slog.Logger
	sem    chan struct{}

	mu     sync.Mutex
	status map[string]ContactStatus // aor + "\x00" + contact
	next   map[string]time.Time
	busy   map[string]bool
}

// NewQualifier returns a qualifier sending through client.
func NewQualifier(rg *Registrar, client *sipgo.Client, log *slog.Logger) *Qualifier {
	return &Qualifier{
		rg: rg, client: client, log: log.With("component", "qualify"),
		sem:    make(chan struct{}, 256),
		status: map[string]ContactStatus{},
		next:   map[string]time.Time{},
		busy:   map[string]bool{},
	}
}

func statusKey(aor, contact string) string { return aor + "\x00" + contact }

// Status returns the qualify state of a contact.
func (q *Qualifier) Status(aor, contact string) (ContactStatus, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.status[statusKey(aor, contact)]
	return s, ok
}

// Run checks every second which contacts are due until ctx ends.
func (q *Qualifier) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			q.tick(ctx)
		}
	}
}

func (q *Qualifier) tick(ctx context.Context) {
	all, err := q.rg.store.All(ctx)
	if err != nil {
		return
	}
	p := q.rg.Policy()
	now := time.Now()
	seen := make(map[string]bool, len(all))
	for _, b := range all {
		if !b.Live(now) {
			continue
		}
		ep := p.Endpoints.ByAOR(b.AOR)
		if ep == nil || ep.QualifyFrequency <= 0 {
			continue
		}
		k := statusKey(b.AOR, b.Contact)
		seen[k] = true
		q.mu.Lock()
		due := !q.busy[k] && !now.Before(q.next[k])
		if due {
			q.busy[k] = true
			q.next[k] = now.Add(ep.QualifyFrequency)
		}
		q.mu.Unlock()
		if !due {
			continue
		}
		select {
		case q.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		go func(b location.Binding, ep *endpoint.Endpoint) {
			defer func() { <-q.sem }()
			q.ping(ctx, b, ep)
		}(b, ep)
	}
	// Forget contacts that are gone.
	q.mu.Lock()
	for k := range q.next {
		if !seen[k] && !q.busy[k] {
			delete(q.next, k)
			delete(q.status, k)
		}
	}
	q.mu.Unlock()
}

// Ping sends one OPTIONS to b now and records the result.
func (q *Qualifier) Ping(ctx context.Context, b location.Binding, ep *endpoint.Endpoint) ContactStatus {
	k := statusKey(b.AOR, b.Contact)
	q.mu.Lock()
	q.busy[k] = true
	q.mu.Unlock()
	return q.ping(ctx, b, ep)
}

func (q *Qualifier) ping(ctx context.Context, b location.Binding, ep *endpoint.Endpoint) ContactStatus {
	k := statusKey(b.AOR, b.Contact)
	timeout := ep.QualifyTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	st := ContactStatus{Status: Unreachable, Checked: time.Now()}
	rtt, err := q.options(ctx, b, ep, timeout)
	if err == nil {
		st.Status, st.RTT = Reachable, rtt
	}
	q.mu.Lock()
	prev, had := q.status[k]
	q.status[k] = st
	q.busy[k] = false
	q.mu.Unlock()
	if !had || prev.Status != st.Status {
		q.log.Info("contact status", "aor", b.AOR, "contact", b.Contact, "status", string(st.Status),
			"rtt_ms", float64(st.RTT.Microseconds())/1000, "error", err)
	}
	return st
}

// Destination is where requests to the binding's phone must go: the source
// address of its REGISTER when NAT handling is on or the transport is
// connection-oriented (the phone's own port is not listening), otherwise the
// Contact's host and port.
func Destination(b location.Binding, ep *endpoint.Endpoint) string {
	if b.Transport != "udp" || (ep != nil && (ep.NAT.ForceRport || ep.NAT.RewriteContact)) {
		return b.Received
	}
	var u sip.Uri
	if err := sip.ParseUri(b.Contact, &u); err != nil || u.Host == "" {
		return b.Received
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

func (q *Qualifier) options(ctx context.Context, b location.Binding, ep *endpoint.Endpoint, timeout time.Duration) (time.Duration, error) {
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil {
		return 0, err
	}
	req := sip.NewRequest(sip.OPTIONS, uri)
	transport := strings.ToUpper(b.Transport)
	if transport == "" {
		transport = "UDP"
	}
	req.SetTransport(transport)
	req.SetDestination(Destination(b, ep))

	host, port := "", 0
	if transport == "UDP" && b.LocalAddr != "" {
		// Send from the socket the phone registered to: a NAT only lets in
		// packets from the address the phone's own packets went to.
		host, port = sipserver.Advertised(b.LocalAddr, req.Destination())
		if h, p, err := net.SplitHostPort(b.LocalAddr); err == nil {
			req.Laddr.IP = net.ParseIP(h)
			req.Laddr.Port, _ = strconv.Atoi(p)
		}
	}
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport, Host: host, Port: port}
	via.Params.Add("branch", sip.GenerateBranchN(16))
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	fromHost := host
	if fromHost == "" {
		fromHost = "gopbx.invalid"
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "gopbx", Host: fromHost}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: uri})
	maxf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxf)
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	req.SetBody(nil)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := q.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	_ = res // any response proves the contact alive, as in Asterisk
	return time.Since(start), nil
}
