package sipserver

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/lazylog"
)

// Handler serves one SIP request. It must send the final response through
// r.Respond (except for ACK, which has none) before it returns; the server
// transaction is released afterwards.
type Handler interface {
	ServeSIP(ctx context.Context, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, r *Request)

// ServeSIP calls f(ctx, r).
func (f HandlerFunc) ServeSIP(ctx context.Context, r *Request) { f(ctx, r) }

// Request is an incoming request with its server transaction.
type Request struct {
	*sip.Request
	Tx  sip.ServerTransaction
	Log *slog.Logger // carries call_id, method and source

	srv        *Server
	forceRport bool
	responded  bool
	reply      func(*sip.Response) error // fast path: write from the socket directly
	stateless  func(*sip.Response) error // fast-path INVITE: the write DetachTx leaves
	local      string                    // our socket's address
	readAt     int64                     // unix ns the datagram arrived (fast path); 0 elsewhere

	// Log points at logger, whose handler is lh: no allocation per
	// request for a logger most requests never use (see setLog).
	logger slog.Logger
	lh     lazylog.Deferred
	logSrc string
}

// Waited is how long the request waited inside gopbx between the arrival
// of its datagram and now: the socket's receive queue (from the kernel's
// timestamp), the fast path's queue and the wait for a goroutine to run
// it, which all grow when the CPUs cannot keep up. 0 for requests that did
// not come through the UDP fast path.
func (r *Request) Waited() time.Duration {
	if r.readAt == 0 {
		return 0
	}
	return time.Duration(time.Now().UnixNano() - r.readAt)
}

// QueueDelay is the fast path's standing queue delay when the request
// came through it: the smallest wait of any request over the last two
// 100 ms intervals (delayMeter). It stays near 0 however bursty the
// traffic while the CPUs keep up, and grows with the backlog when they do
// not. 0 for requests that did not come through the UDP fast path.
func (r *Request) QueueDelay() time.Duration {
	if r.readAt == 0 || r.srv == nil {
		return 0
	}
	return r.srv.QueueDelay()
}

// LocalAddr is the address of our socket the request arrived on
// ("0.0.0.0:5060" on a wildcard listener), or "" when unknown.
func (r *Request) LocalAddr() string {
	if r.local == "" && r.Tx != nil {
		if c, ok := r.Tx.(interface{ Connection() sip.Connection }); ok && c.Connection() != nil {
			r.local = c.Connection().LocalAddr().String()
		}
	}
	return r.local
}

// ForceRport makes responses go to the source port of the request even when
// its Via has no rport parameter (sip.conf nat=force_rport, pjsip
// force_rport=yes), as phones behind NAT need.
func (r *Request) ForceRport() { r.forceRport = true }

// SetResponded records that the handler sent the final response itself
// (through the transaction, as sipgo's dialog sessions do).
func (r *Request) SetResponded() { r.responded = true }

// OwnsRequest reports whether nothing but the handler reads the request:
// true for the UDP fast path's INVITEs, whose transaction never touches
// the request after its creation (sipgo's transactions may, e.g. for an
// automatic 100 Trying), so the handler may change it in place.
func (r *Request) OwnsRequest() bool {
	_, ok := r.Tx.(*inviteTx)
	return ok
}

// Responded reports whether a final response has been sent.
func (r *Request) Responded() bool { return r.responded }

// NewResponse builds a response to r with the server's headers.
func (r *Request) NewResponse(code int, reason string) *sip.Response {
	return sip.NewResponseFromRequest(r.Request, code, reason, nil)
}

// Respond sends a response built by NewResponse (plus extra headers).
func (r *Request) Respond(code int, reason string, hdrs ...sip.Header) error {
	res := r.NewResponse(code, reason)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return r.Send(res)
}

// Send sends res on the request's transaction, adding the Server header.
func (r *Request) Send(res *sip.Response) error {
	if h := r.srv.serverHeader(); h != nil && res.GetHeader("Server") == nil {
		res.AppendHeader(h)
	}
	if res.StatusCode >= 200 {
		r.responded = true
	}
	if r.reply != nil {
		return r.reply(res)
	}
	if r.forceRport && !sip.IsReliable(r.Transport()) {
		res.SetDestination(r.Source())
	}
	if r.Tx == nil {
		return r.srv.ua.TransportLayer().WriteMsg(res)
	}
	return r.Tx.Respond(res)
}

// DetachTx takes the request off its server transaction and returns the
// transaction: later responses are sent statelessly (the caller ends the
// transaction, e.g. to answer a flood without retransmissions).
func (r *Request) DetachTx() sip.ServerTransaction {
	tx := r.Tx
	r.Tx = nil
	if r.stateless != nil {
		r.reply = r.stateless
	}
	return tx
}

// ServerTx is the transaction to hand to sipgo's dialog sessions (ReadBye,
// ReadAck): sipgo's own, or on the fast path one whose Respond is r.Send.
func (r *Request) ServerTx() sip.ServerTransaction {
	if r.Tx != nil {
		return r.Tx
	}
	return replyTx{r: r}
}

// replyTx is a fast-path request seen as a sipgo server transaction. Only
// Respond does anything: the fast path keeps no transaction state beyond
// its retransmission cache, so there is nothing to terminate or wait for.
type replyTx struct{ r *Request }

func (t replyTx) Respond(res *sip.Response) error    { return t.r.Send(res) }
func (t replyTx) Terminate()                         {}
func (t replyTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (t replyTx) Done() <-chan struct{}              { return nil }
func (t replyTx) Err() error                         { return nil }
func (t replyTx) Acks() <-chan *sip.Request          { return nil }
func (t replyTx) OnCancel(sip.FnTxCancel) bool       { return false }

var _ sip.ServerTransaction = replyTx{}

// Trying sends 100 Trying. On the fast path's INVITE transaction it is
// written straight from the request's headers: no response, no copies of
// its headers (they were 5% of the bytes a B2BUA call allocated).
func (r *Request) Trying() error {
	tx, ok := r.Tx.(*inviteTx)
	if !ok || r.reply != nil {
		return r.Respond(100, "Trying")
	}
	return tx.send(appendTrying(make([]byte, 0, 512), r.Request, r.srv.userAgent()), 100, "", r.forceRport)
}

// appendTrying appends the 100 Trying to req that sip.NewResponseFromRequest
// and Send would make: the Vias (the top one with RFC 3581's received and
// rport filled in), From, To, Call-ID, CSeq, Timestamp, Content-Length,
// Server.
func appendTrying(b []byte, req *sip.Request, ua string) []byte {
	if top := req.Via(); top != nil {
		// RFC 3581 §4: the server fills in the top Via of the request it
		// received, so the responses (this one and those NewResponse
		// makes later) carry them.
		if v, ok := top.Params.Get("rport"); ok && v == "" {
			if host, port, err := net.SplitHostPort(req.Source()); err == nil {
				top.Params.Add("rport", port)
				top.Params.Add("received", host)
			}
		}
	}
	w := bytesWriter{b: append(b, "SIP/2.0 100 Trying\r\n"...)}
	line := func(h sip.Header) {
		h.StringWrite(&w)
		w.b = append(w.b, "\r\n"...)
	}
	hs := req.Headers()
	for _, h := range hs {
		if h.Name() == "Via" {
			line(h)
		}
	}
	// Typed nils kept out of the interface.
	if h := req.From(); h != nil {
		line(h)
	}
	if h := req.To(); h != nil {
		line(h)
	}
	if h := req.CallID(); h != nil {
		line(h)
	}
	if h := req.CSeq(); h != nil {
		line(h)
	}
	for _, h := range hs {
		if strings.EqualFold(h.Name(), "Timestamp") {
			line(h)
		}
	}
	w.b = append(w.b, "Content-Length: 0\r\n"...)
	if ua != "" {
		w.b = append(append(append(w.b, "Server: "...), ua...), "\r\n"...)
	}
	return append(w.b, "\r\n"...)
}
