package sipserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The fast path serves UDP REGISTER, OPTIONS, BYE, INVITE (with its CANCEL
// and the ACK of a non-2xx: invitetx.go) and the ACKs of 2xx responses
// without sipgo's transaction layer. sipgo keeps every completed server
// transaction for Timer J (32 s) at about 4 KB each and starts a goroutine
// per packet; at 10,000 registrations/s that is gigabytes of heap and most
// of the CPU in GC and stack growth (research/sipgo.md, and our own
// profile), and at 1,500 calls/s its BYE and INVITE transactions alone
// are 96,000 kept for 32 s. So:
//
//   - the UDP read loop hands the datagram to a fixed pool of workers
//     (bounded queue: when it is full the datagram is dropped and the
//     phone's retransmission comes back later, which is overload control);
//   - a worker parses, validates and runs the handler, then writes the
//     response from the same socket (an INVITE's handler, which lasts
//     until the call is answered, gets a goroutine of its own);
//   - final responses of non-INVITE requests are kept for retransTTL, keyed
//     like an RFC 3261 §17.2.3 server transaction, and a retransmission
//     gets the stored bytes again; one arriving while the original is
//     still being handled is dropped;
//   - an ACK has no response. A worker parses it: the ACK of a non-2xx
//     ends its INVITE transaction; any other (the ACK of a 2xx, which has
//     a branch of its own, RFC 3261 §17.1.1.3) runs the ACK handler. Only
//     the ACK of a stateless refusal is dropped in the read hook, unparsed.
const (
	retransTTL   = 8 * time.Second // covers T1 retransmissions at 0.5, 1, 2 and 4 s
	fastWorkers  = 128             // REGISTER waits for the SQLite group commit
	fastQueueLen = 8192
)

var errBlocked = errors.New("sipserver: source blocked")

type fastJob struct {
	data []byte
	from net.Addr
	src  string // from's string
	lstr string // pc's local address
	pc   net.PacketConn
	at   int64 // unix ns of its arrival: the kernel's timestamp, else the read (Request.Waited)
}

type fastPath struct {
	s          *Server
	queue      chan fastJob
	cache      *retransCache
	bufs       sync.Pool
	invites    *inviteTable
	delay      *delayMeter
	slTag      []byte         // To tag of stateless INVITE refusals (see filter)
	overloaded atomic.Int64   // new INVITEs refused in the read loop (refuseOverloaded)
	running    sync.WaitGroup // INVITE handlers (tests wait for them)
	wg         sync.WaitGroup

	closeOnce  sync.Once
	stopSweeps context.CancelFunc // set by start
}

func newFastPath(s *Server) *fastPath {
	f := &fastPath{
		s:     s,
		queue: make(chan fastJob, fastQueueLen),
		cache: newRetransCache(),
		delay: newDelayMeter(),
		slTag: []byte("sl-" + rand.Text()[:16]),
	}
	f.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	f.invites = newInviteTable(f)
	return f
}

func (f *fastPath) start(ctx context.Context) {
	ctx, f.stopSweeps = context.WithCancel(ctx)
	for i := 0; i < fastWorkers; i++ {
		f.wg.Add(1)
		go f.worker()
	}
	go f.cache.sweep(ctx)
	go f.invites.sweep(ctx)
}

// stopOnce drains the queue and stops the workers; the read loops must have
// ended first.
func (f *fastPath) stopOnce() {
	f.closeOnce.Do(func() {
		close(f.queue)
		if f.stopSweeps != nil {
			f.stopSweeps()
		}
	})
	f.wg.Wait()
}

// isFast reports whether a datagram is a request the fast path serves.
// ACKs are served too (see filter), except a stateless refusal's.
func isFast(data []byte) bool {
	return bytes.HasPrefix(data, []byte("REGISTER ")) || bytes.HasPrefix(data, []byte("OPTIONS ")) ||
		bytes.HasPrefix(data, []byte("INVITE ")) || bytes.HasPrefix(data, []byte("BYE ")) ||
		bytes.HasPrefix(data, []byte("CANCEL ")) || bytes.HasPrefix(data, []byte("ACK "))
}

// filter is sipgo's read hook: it takes fast-path datagrams away from sipgo
// (returning nil) and lets everything else through unchanged.
// A source the gate blocks is dropped here, before parsing; on a stream
// transport the error makes sipgo close the connection.
func (s *Server) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	g := s.loadGate()
	if g != nil && g.Blocked(info.RemoteAddr) {
		if info.Transport == "UDP" {
			return nil, nil
		}
		return nil, errBlocked
	}
	if info.Transport != "UDP" {
		if info.Transport == "TCP" || info.Transport == "TLS" {
			s.bad.rememberStream(info.Transport, info.RemoteAddr, data)
		}
		return data, nil
	}
	if s.fast == nil {
		s.bad.remember(s, info.LocalAddr, info.RemoteAddr, data)
		return data, nil
	}
	// sipgo's UDP reader gives the addresses' strings (formatted once per
	// peer); other callers may not.
	src, lstr := info.Source, info.Local
	if src == "" {
		src = info.RemoteAddr.String()
	}
	if lstr == "" {
		lstr = info.LocalAddr.String()
	}
	if g != nil && s.fast.refuseOverloaded(g, data, info.RemoteAddr, src, lstr) {
		return nil, nil
	}
	if !isFast(data) {
		s.bad.remember(s, info.LocalAddr, info.RemoteAddr, data)
		return data, nil
	}
	if bytes.HasPrefix(data, []byte("ACK ")) && bytes.Contains(data, s.fast.slTag) {
		// The ACK of a stateless refusal (an overload or flood 503): no
		// transaction or dialog knows it, and parsing it to find that out
		// would cost most of what refusing the call saved, when the server
		// can least afford it. The tag is random, so only an ACK echoing
		// our To tag carries it. Kamailio's sl module absorbs these ACKs
		// the same way.
		return nil, nil
	}
	pc := s.udpConn(lstr)
	if pc == nil {
		return data, nil
	}
	bp := s.fast.bufs.Get().(*[]byte)
	buf := append((*bp)[:0], data...)
	at := info.ReadAt // the kernel's receive time, when the socket gives it
	if at == 0 {
		at = time.Now().UnixNano()
	}
	select {
	case s.fast.queue <- fastJob{data: buf, from: info.RemoteAddr, src: src, lstr: lstr, pc: pc, at: at}:
	default:
		s.dropped.Add(1)
		*bp = buf
		s.fast.bufs.Put(bp)
	}
	return nil, nil
}

func (f *fastPath) worker() {
	defer f.wg.Done()
	parser := sip.NewParser()
	for job := range f.queue {
		f.delay.observe(job.at, time.Now().UnixNano())
		f.handle(parser, job)
		b := job.data[:0]
		f.bufs.Put(&b)
	}
}

func (f *fastPath) handle(parser *sip.Parser, job fastJob) {
	s := f.s
	msg, err := parser.ParseSIP(job.data)
	short := errors.Is(err, sip.ErrParseReadBodyIncomplete)
	if err != nil && bytes.HasPrefix(job.data, []byte("ACK ")) {
		s.log.Debug("unparsable ACK dropped", "src", job.src, "error", err)
		return // never answered (RFC 3261 §17.2.1)
	}
	if err != nil && !(short && msg != nil) {
		if res := badRequestResponse(job.data, err.Error(), s.userAgent()); res != nil {
			if _, werr := job.pc.WriteTo(res, job.from); werr == nil {
				s.bad.sent.Add(1)
			}
			s.log.Debug("unparsable request refused with 400", "src", job.from.String(), "error", err)
			return
		}
		s.log.Debug("unparsable request dropped", "src", job.from.String(), "error", err)
		return
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return
	}
	src := job.src
	req.SetTransport("UDP")
	req.SetSource(src)
	via := req.Via()
	if via == nil {
		return // no Via: nowhere to send a response (RFC 3261 §18.2.1)
	}
	if short {
		// RFC 3261 §18.3: a datagram that ends before the body the
		// Content-Length announces is answered with 400.
		if !usableVia(via) {
			return
		}
		s.log.Warn("request refused", "status", 400, "reason", "Content-Length Mismatch", "src", src)
		res := sip.NewResponseFromRequest(req, 400, "Content-Length Mismatch", nil)
		res.SipVersion = "SIP/2.0"
		var buf bytes.Buffer
		res.StringWrite(&buf)
		f.write(job.pc, buf.Bytes(), viaDest(via, job.from), req)
		return
	}
	switch req.Method {
	case sip.INVITE:
		f.invite(req, via, job, src)
		return
	case sip.ACK:
		// The ACK of a non-2xx ends its INVITE transaction here; any
		// other (a 2xx's, with a branch of its own, RFC 3261 §17.1.1.3)
		// goes to the ACK handler, as sipgo would pass it on: it has no
		// server transaction for a UDP INVITE, the fast path has them all.
		if tx := f.invites.get(txKeyAs(sip.INVITE, req, via, src)); tx != nil && tx.ack(req) {
			return
		}
		f.handleACK(req, job)
		return
	case sip.CANCEL:
		if tx := f.invites.get(txKeyAs(sip.INVITE, req, via, src)); tx != nil {
			tx.cancel(req)
			return
		}
		// No such INVITE: the handler answers 481.
	}
	key := txKey(req, via, src)
	if cached, state := f.cache.begin(key); state == inFlight {
		return
	} else if state == done {
		f.write(job.pc, cached, job.from, req)
		return
	}
	r := &Request{Request: req, srv: s, local: job.lstr, readAt: job.at}
	r.setLog(s, src)
	var finished atomic.Bool
	r.reply = func(res *sip.Response) error {
		// One allocation of a typical response's size instead of the
		// buffer's doublings from 64 bytes (10% of allocations under
		// REGISTER load).
		buf := bytes.NewBuffer(make([]byte, 0, 768))
		res.StringWrite(buf)
		b := buf.Bytes()
		if res.StatusCode >= 200 && finished.CompareAndSwap(false, true) {
			// Stored before it is sent: a retransmission sent as soon as
			// the phone has the response must find it, not the in-flight
			// mark (which drops it: seen under load in the registrar test).
			var keep []byte
			if keepForRetransmission(req.Method, res.StatusCode) {
				keep = b
			}
			f.cache.finish(key, keep)
		}
		dst := job.from
		if !r.forceRport {
			dst = viaDest(via, job.from)
		}
		return f.write(job.pc, b, dst, req)
	}
	s.dispatch(r)
	if finished.CompareAndSwap(false, true) {
		f.cache.finish(key, nil) // no final response: forget the in-flight mark
	}
}

// invite starts an INVITE's transaction and runs its handler on a
// goroutine of its own (it lasts until the call is answered or refused);
// a retransmission gets the last response again.
func (f *fastPath) invite(req *sip.Request, via *sip.ViaHeader, job fastJob, src string) {
	key := txKey(req, via, src)
	tx, isNew := f.invites.add(key, func() *inviteTx {
		return newInviteTx(f.invites, key, job.pc, job.from, src, viaDest(via, job.from))
	})
	if !isNew {
		tx.retransmitted()
		return
	}
	r := &Request{Request: req, Tx: tx, srv: f.s, local: job.lstr, readAt: job.at}
	r.setLog(f.s, src)
	r.stateless = func(res *sip.Response) error {
		if to := res.To(); to != nil && res.StatusCode >= 300 && !hasTag(req.To()) {
			// A refused new call (a re-INVITE keeps its dialog's tag):
			// its ACK is absorbed in the read hook (filter).
			to.Params.Add("tag", string(f.slTag))
		}
		dst := job.from
		if !r.forceRport {
			dst = viaDest(via, job.from)
		}
		return f.write(job.pc, marshalResponse(res), dst, nil)
	}
	f.running.Add(1)
	f.s.Go(func() { // INVITE handlers run deep: a worker keeps its stack
		defer f.running.Done()
		f.s.dispatch(r)
		tx.handlerDone()
	})
}

// handleACK runs the handler of a claimed ACK: no response, no cache (a
// retransmitted 2xx brings a retransmitted ACK, served again).
func (f *fastPath) handleACK(req *sip.Request, job fastJob) {
	src := job.src
	r := &Request{Request: req, srv: f.s, local: job.lstr}
	r.setLog(f.s, src)
	r.reply = func(*sip.Response) error { return errNoResponse }
	f.s.dispatch(r)
}

var errNoResponse = errors.New("sipserver: an ACK has no response")

// keepForRetransmission tells which final responses the cache keeps for
// retransmissions. A retransmitted REGISTER must get its 200 again: run
// anew, its CSeq is not above the stored one and its nonce-count is used.
// OPTIONS and digest challenges are answered afresh instead, as Kamailio
// and Asterisk answer them statelessly: a new 401 (with a new nonce) is as
// good as the first, and keeping them was most of the cache (and of
// gopbx's RSS) under REGISTER and OPTIONS load.
func keepForRetransmission(method sip.RequestMethod, status int) bool {
	return method != sip.OPTIONS && status != 401 && status != 407
}

func (f *fastPath) write(pc net.PacketConn, b []byte, to net.Addr, req *sip.Request) error {
	_, err := pc.WriteTo(b, to)
	if err == nil && f.s.tracer.on.Load() { // the addresses' strings only when tracing
		f.s.tracer.trace(true, "UDP", pc.LocalAddr().String(), to.String(), b)
	}
	return err
}

// viaDest is RFC 3261 §18.2.2 with RFC 3581: the source IP, and the source
// port when the Via asked for rport, else the Via's sent-by port.
func viaDest(via *sip.ViaHeader, from net.Addr) net.Addr {
	if via.Params.Has("rport") {
		return from
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return from
	}
	port := via.Port
	if port == 0 {
		port = 5060
	}
	return &net.UDPAddr{IP: ua.IP, Port: port, Zone: ua.Zone}
}

// txKey identifies a server transaction (RFC 3261 §17.2.3: branch, sent-by,
// method; the source guards against branch collisions between phones).
func txKey(req *sip.Request, via *sip.ViaHeader, src string) string {
	return txKeyAs(req.Method, req, via, src)
}

func hasTag(to *sip.ToHeader) bool { return to != nil && to.Params.Has("tag") }

// txKeyAs is txKey for another method: a CANCEL's or an ACK's INVITE.
func txKeyAs(method sip.RequestMethod, req *sip.Request, via *sip.ViaHeader, src string) string {
	branch, _ := via.Params.Get("branch")
	if branch == "" {
		// RFC 2543 client: fall back to Call-ID and CSeq.
		if cs := req.CSeq(); cs != nil {
			branch = callID(req) + "/" + strconv.FormatUint(uint64(cs.SeqNo), 10)
		}
	}
	// One allocation: the concatenation with strconv.Itoa's string took two
	// for every port from 100 up.
	var port [8]byte
	var b strings.Builder
	b.Grow(len(src) + len(method) + len(via.Host) + len(branch) + 4 + len(port))
	b.WriteString(src)
	b.WriteByte('|')
	b.WriteString(string(method))
	b.WriteByte('|')
	b.WriteString(via.Host)
	b.WriteByte(':')
	b.Write(strconv.AppendInt(port[:0], int64(via.Port), 10))
	b.WriteByte('|')
	b.WriteString(branch)
	return b.String()
}

type cacheState int

const (
	fresh cacheState = iota
	inFlight
	done
)

type cacheEntry struct {
	res     []byte // nil while in flight
	expires int64
}

const cacheShards = 64

// retransCache remembers recent final responses of fast-path transactions.
type retransCache struct {
	shards [cacheShards]struct {
		mu sync.Mutex
		m  map[string]cacheEntry
	}
}

func newRetransCache() *retransCache {
	c := &retransCache{}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

func shard(key string) int {
	var h uint32 = 2166136261
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return int(h % cacheShards)
}

// begin reports whether key is new (and marks it in flight), in flight, or
// done (with the stored response).
func (c *retransCache) begin(key string) ([]byte, cacheState) {
	sh := &c.shards[shard(key)]
	now := time.Now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok && e.expires > now {
		if e.res == nil {
			return nil, inFlight
		}
		return e.res, done
	}
	sh.m[key] = cacheEntry{expires: now + int64(retransTTL)}
	return nil, fresh
}

func (c *retransCache) finish(key string, res []byte) {
	sh := &c.shards[shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if res == nil {
		delete(sh.m, key)
		return
	}
	sh.m[key] = cacheEntry{res: res, expires: time.Now().UnixNano() + int64(retransTTL)}
}

func (c *retransCache) sweep(ctx context.Context) {
	everySecond(ctx, func(now int64) {
		for i := range c.shards {
			sh := &c.shards[i]
			sh.mu.Lock()
			for k, e := range sh.m {
				if e.expires <= now {
					delete(sh.m, k)
				}
			}
			sh.mu.Unlock()
		}
	})
}

// everySecond runs f with the time (unix ns) once a second until ctx ends.
func everySecond(ctx context.Context, f func(now int64)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f(time.Now().UnixNano())
	}
}
