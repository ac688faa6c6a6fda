package sipserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/gopool"
	"github.com/gopbx/gopbx/internal/lazylog"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Listener is one address gopbx serves SIP on.
type Listener struct {
	Proto string // udp, tcp, tls, ws, wss
	Addr  string // host:port
	// TLS is required for tls and wss. The server reads it at each
	// handshake through SetTLS, so a reload can replace the certificate.
	TLS *tls.Config
}

// Options configure a Server.
type Options struct {
	UserAgent string
	Log       *slog.Logger
	// Supported lists the option tags gopbx implements; a request that
	// Requires anything else is refused with 420.
	Supported []string
	// UDPBuffer is the SO_RCVBUF/SO_SNDBUF size for UDP sockets (default 4 MiB).
	UDPBuffer int
	// NoFastPath sends UDP REGISTER and OPTIONS through sipgo's transaction
	// layer like every other request (see fastpath.go).
	NoFastPath bool
	// ClientTLS is used for TLS and WSS connections gopbx opens; nil keeps
	// sipgo's default (system roots, server name checked).
	ClientTLS *tls.Config
}

// Server owns the sipgo user agent, its transports and the request routing.
type Server struct {
	log      *slog.Logger
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	uaName   atomic.Pointer[string]
	uaHdr    atomic.Pointer[sip.Header] // Server: uaName, shared by responses (never changed)
	external atomic.Pointer[map[string]External]
	bad      *badRequests // 400 for UDP requests sipgo cannot parse
	supp     []string
	udpBuf   int
	handlers map[sip.RequestMethod]Handler
	tracer   *tracer
	clientMu sync.RWMutex
	clients  map[clientKey]*sipgo.Client // ClientFor's
	routes   *sourceRoutes

	mu        sync.Mutex
	closers   []func() error
	listening []Listener
	wg        sync.WaitGroup
	inflight  atomic.Int64
	udpConns  map[string]net.PacketConn // by local address, for the fast path
	fast      *fastPath
	tasks     *gopool.Pool // short-lived per-call goroutines (Go)
	fastOnce  sync.Once
	dropped   atomic.Int64 // datagrams dropped because the fast path was full
	sipgoLog  *slog.Logger
	gate      atomic.Pointer[Gate]
	tlsConfs  map[string]*atomic.Pointer[tls.Config] // by "proto addr" as configured
}

// Gate screens traffic before any handler sees it: internal/pbx puts the
// security package's ban table, INVITE rate limit and scanner filter here.
type Gate interface {
	// Blocked reports whether everything from src is dropped unread: UDP
	// datagrams before parsing, stream connections closed.
	Blocked(src net.Addr) bool
	// Admit runs on each valid request; false means the gate has responded
	// (or chose silence) and no handler runs.
	Admit(r *Request) bool
}

// SetGate installs g (nil removes it); it may be called at any time.
func (s *Server) SetGate(g Gate) {
	if g == nil {
		s.gate.Store(nil)
		return
	}
	s.gate.Store(&g)
}

func (s *Server) loadGate() Gate {
	if g := s.gate.Load(); g != nil {
		return *g
	}
	return nil
}

// knownMethods are the methods gopbx recognises; anything else is 501.
var knownMethods = []sip.RequestMethod{
	sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
	sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE,
	sip.PRACK, sip.UPDATE, sip.PUBLISH,
}

// New creates a server; call Handle for each served method, then Listen.
func New(opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		log:      log.With("component", "sip"),
		supp:     opts.Supported,
		udpBuf:   opts.UDPBuffer,
		handlers: make(map[sip.RequestMethod]Handler),
		udpConns: make(map[string]net.PacketConn),
		tlsConfs: make(map[string]*atomic.Pointer[tls.Config]),
		tasks:    gopool.New(0),
		routes:   newSourceRoutes(),
	}
	if !opts.NoFastPath {
		s.fast = newFastPath(s)
	}
	if s.udpBuf == 0 {
		s.udpBuf = 4 << 20
	}
	s.SetUserAgent(opts.UserAgent)
	s.tracer = newTracer(s.log)

	// sipgo logs every unparsable datagram at Error with its payload; that is
	// peer misbehaviour, so it goes to our log at Debug through a filter.
	s.bad = newBadRequests()
	sipgoLog := slog.New(parseFailHook{next: levelShift{h: log.Handler()}, s: s}).With("component", "sipgo")
	s.sipgoLog = sipgoLog
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(opts.UserAgent),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipgoLog)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipgoLog), sip.WithTransportLayerReadFilter(s.filter)),
	}
	if opts.ClientTLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(opts.ClientTLS))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sipserver: new user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipgoLog))
	if err != nil {
		return nil, fmt.Errorf("sipserver: new server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipgoLog), sipgo.WithClientNAT())
	if err != nil {
		return nil, fmt.Errorf("sipserver: new client: %w", err)
	}
	s.ua, s.srv, s.client = ua, srv, client
	for _, m := range knownMethods {
		srv.OnRequest(m, s.serve)
	}
	srv.OnNoRoute(s.serve)
	return s, nil
}

// SetUserAgent changes the Server/User-Agent value (core reload).
func (s *Server) SetUserAgent(ua string) {
	var h sip.Header
	if ua != "" {
		h = sip.NewHeader("Server", ua)
	}
	s.uaHdr.Store(&h)
	s.uaName.Store(&ua)
}

// serverHeader is the Server header of every response (nil with no user
// agent): one header shared by all, as nothing changes a header once it
// is in a response.
func (s *Server) serverHeader() sip.Header { return *s.uaHdr.Load() }

func (s *Server) userAgent() string { return *s.uaName.Load() }

// Handle routes requests of method m to h. It must be called before Listen.
func (s *Server) Handle(m sip.RequestMethod, h Handler) {
	s.handlers[m] = h
}

// Allow is the value of the Allow header: the methods with a handler.
func (s *Server) Allow() string {
	var ms []string
	for _, m := range knownMethods {
		if _, ok := s.handlers[m]; ok {
			ms = append(ms, string(m))
		}
	}
	return strings.Join(ms, ", ")
}

// Supported is the value of the Supported header.
func (s *Server) Supported() string { return strings.Join(s.supp, ", ") }

// Client is the sipgo client sharing the server's transports, for requests
// gopbx originates (qualify OPTIONS, calls, registrations).
func (s *Server) Client() *sipgo.Client { return s.client }

// Tracer controls `sip set debug`.
func (s *Server) Tracer() *Tracer { return &Tracer{t: s.tracer} }

// Listeners returns the addresses being served.
func (s *Server) Listeners() []Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listening)
}

// Go runs f, a goroutine that ends within a call's set-up or tear-down
// (an INVITE handler, an answer, a BYE), on a reused worker that keeps its
// grown stack (internal/gopool). Not for work that lasts the whole call.
func (s *Server) Go(f func()) { s.tasks.Go(f) }

// Listen opens every listener; it fails without serving any when one of
// them cannot be opened, so a bad bind address is reported at start.
func (s *Server) Listen(ctx context.Context, ls []Listener) error {
	type opened struct {
		l     Listener
		pc    net.PacketConn
		ln    net.Listener
		serve func() error
	}
	var open []opened
	closeAll := func() {
		for _, o := range open {
			if o.pc != nil {
				o.pc.Close()
			}
			if o.ln != nil {
				o.ln.Close()
			}
		}
	}
	for _, l := range ls {
		switch l.Proto {
		case "udp":
			pc, err := listenUDP(ctx, netFor("udp", l.Addr), l.Addr, s.udpBuf)
			if err != nil {
				closeAll()
				return fmt.Errorf("sipserver: listen udp %s: %w", l.Addr, err)
			}
			open = append(open, opened{l: l, pc: pc, serve: func() error { return s.srv.ServeUDP(pc) }})
		case "tcp", "ws":
			var lc net.ListenConfig
			ln, err := lc.Listen(ctx, netFor("tcp", l.Addr), l.Addr)
			if err != nil {
				closeAll()
				return fmt.Errorf("sipserver: listen %s %s: %w", l.Proto, l.Addr, err)
			}
			serve := func() error { return s.srv.ServeTCP(ln) }
			if l.Proto == "ws" {
				serve = func() error { return s.srv.ServeWS(ln) }
			}
			open = append(open, opened{l: l, ln: ln, serve: serve})
		case "tls", "wss":
			if l.TLS == nil {
				closeAll()
				return fmt.Errorf("sipserver: listen %s %s: no certificate configured", l.Proto, l.Addr)
			}
			var lc net.ListenConfig
			raw, err := lc.Listen(ctx, netFor("tcp", l.Addr), l.Addr)
			if err != nil {
				closeAll()
				return fmt.Errorf("sipserver: listen %s %s: %w", l.Proto, l.Addr, err)
			}
			ln := tls.NewListener(raw, s.dynamicTLS(l))
			serve := func() error { return s.srv.ServeTLS(ln) }
			if l.Proto == "wss" {
				serve = func() error { return s.srv.ServeWSS(ln) }
			}
			open = append(open, opened{l: l, ln: ln, serve: serve})
		default:
			closeAll()
			return fmt.Errorf("sipserver: listen %s: unknown protocol %q", l.Addr, l.Proto)
		}
	}
	if s.fast != nil {
		s.fastOnce.Do(func() { s.fast.start(context.WithoutCancel(ctx)) })
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range open {
		o := o
		l := o.l
		if o.pc != nil {
			l.Addr = o.pc.LocalAddr().String()
			s.udpConns[l.Addr] = o.pc
			s.closers = append(s.closers, o.pc.Close)
		} else {
			l.Addr = o.ln.Addr().String()
			s.closers = append(s.closers, o.ln.Close)
		}
		s.listening = append(s.listening, l)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := o.serve(); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("listener stopped", "proto", l.Proto, "addr", l.Addr, "error", err)
			}
		}()
		s.log.Info("listening", "proto", l.Proto, "addr", l.Addr)
	}
	return nil
}

// Shutdown closes the listeners, waits up to ctx for running handlers, then
// closes the transports.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range closers {
		c()
	}
	s.tracer.close()
	s.wg.Wait() // read loops have ended: nothing feeds the fast path any more
	if s.fast != nil {
		s.fastOnce.Do(func() {}) // never started: nothing to stop
		done := make(chan struct{})
		go func() { s.fast.stopOnce(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			s.ua.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
	return s.ua.Close()
}

// dynamicTLS returns a configuration that asks, at each handshake, for the
// one SetTLS last gave the listener: certificates renew on reload without
// closing the socket or the phones' connections.
func (s *Server) dynamicTLS(l Listener) *tls.Config {
	p := new(atomic.Pointer[tls.Config])
	p.Store(l.TLS)
	s.mu.Lock()
	s.tlsConfs[l.Proto+" "+l.Addr] = p
	s.mu.Unlock()
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return p.Load(), nil }}
}

// SetTLS replaces the TLS configuration of the listener opened as proto
// and addr (as given to Listen); it reports false when there is none.
func (s *Server) SetTLS(proto, addr string, c *tls.Config) bool {
	if c == nil {
		return false
	}
	s.mu.Lock()
	p := s.tlsConfs[proto+" "+addr]
	s.mu.Unlock()
	if p == nil {
		return false
	}
	p.Store(c)
	return true
}

// Dropped is the number of datagrams refused because the request workers
// were all busy and their queue full.
func (s *Server) Dropped() int64 { return s.dropped.Load() }

func (s *Server) udpConn(local string) net.PacketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpConns[local]
}

// setLog gives r its logger: call_id, method and src on every record, as
// lazylog.With(s.log, ...) would, but held in r itself and formatted only
// when a record is logged (lazylog.Deferred, r.LogAttrs). As a lazylog
// logger it cost three allocations per request, ~18 per B2BUA call, for
// loggers that log nothing unless something goes wrong.
func (r *Request) setLog(s *Server, src string) {
	r.logSrc = src
	r.lh = lazylog.Deferred{Next: s.log, Src: r}
	r.logger = *slog.New(&r.lh)
	r.Log = &r.logger
}

// LogAttrs implements lazylog.Source: what r.Log adds to each record.
func (r *Request) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("call_id", callID(r.Request)), slog.String("method", string(r.Method)), slog.String("src", r.logSrc)}
}

// serve is sipgo's entry point for every request.
func (s *Server) serve(req *sip.Request, tx sip.ServerTransaction) {
	r := &Request{Request: req, Tx: tx, srv: s}
	r.setLog(s, req.Source())
	s.dispatch(r)
}

// dispatch validates r and runs its handler; it makes sure a final response
// is sent whatever the handler does.
func (s *Server) dispatch(r *Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	req := r.Request
	defer func() {
		if p := recover(); p != nil {
			r.Log.Error("handler panic", "panic", p)
			if !r.responded && !req.IsAck() {
				r.Respond(500, "Internal Server Error")
			}
		}
	}()
	if !s.validate(r) {
		return
	}
	if g := s.loadGate(); g != nil && !g.Admit(r) {
		return
	}
	h, ok := s.handlers[req.Method]
	if !ok {
		if slices.Contains(knownMethods, req.Method) {
			if !req.IsAck() {
				r.Respond(405, "Method Not Allowed", sip.NewHeader("Allow", s.Allow()))
			}
			return
		}
		r.Respond(501, "Not Implemented", sip.NewHeader("Allow", s.Allow()))
		return
	}
	h.ServeSIP(context.Background(), r)
	if !r.responded && !req.IsAck() {
		r.Log.Error("handler returned without a final response")
		r.Respond(500, "Internal Server Error")
	}
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// netFor pins an IPv4 literal (0.0.0.0 included) to the IPv4 stack, so
// "0.0.0.0:5060" does not silently become a dual-stack [::]:5060 socket.
func netFor(base, addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return base
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		return base + "4"
	}
	return base
}

// ClientFor returns a client whose requests leave from our socket local
// ("ip:port", the one a phone registered or called to) with a Via that
// names the address the peer at remote can reach us on. Requests a NAT'ed
// phone must accept have to come from the socket its own packets went to.
func (s *Server) ClientFor(local, remote, transport string) *sipgo.Client {
	host, port := s.Advertised(local, remote)
	udp := strings.EqualFold(transport, "udp") || transport == ""
	// Clients are shared per (advertised address, transport, local
	// socket): one per call was an allocation held for the whole call.
	// A struct key in a plain map: the string key (and sync.Map's boxing)
	// were allocations on every call's path.
	key := clientKey{host: host, port: port, transport: transportKey(transport)}
	if udp {
		key.local = local
	}
	s.clientMu.RLock()
	c, ok := s.clients[key]
	s.clientMu.RUnlock()
	if ok {
		return c
	}
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(s.sipgoLog), sipgo.WithClientNAT()}
	if host != "" {
		opts = append(opts, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	}
	if udp && local != "" {
		opts = append(opts, sipgo.WithClientConnectionAddr(local))
	}
	c, err := sipgo.NewClient(s.ua, opts...)
	if err != nil {
		return s.client // options above cannot fail on valid addresses
	}
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if actual, ok := s.clients[key]; ok {
		return actual
	}
	if s.clients == nil {
		s.clients = make(map[clientKey]*sipgo.Client)
	}
	s.clients[key] = c
	return c
}

type clientKey struct {
	host      string
	port      int
	transport string
	local     string // UDP: the socket requests leave from
}

// transportKey is transport in lower case, without allocating for the
// usual ones.
func transportKey(t string) string {
	for _, k := range []string{"udp", "tcp", "tls", "ws", "wss"} {
		if strings.EqualFold(t, k) {
			return k
		}
	}
	return strings.ToLower(t)
}
