package sipserver

import (
	"context"
	"log/slog"

	"github.com/emiago/sipgo/sip"
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
}

// ForceRport makes responses go to the source port of the request even when
// its Via has no rport parameter (sip.conf nat=force_rport, pjsip
// force_rport=yes), as phones behind NAT need.
func (r *Request) ForceRport() { r.forceRport = true }

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
	if ua := r.srv.userAgent(); ua != "" && res.GetHeader("Server") == nil {
		res.AppendHeader(sip.NewHeader("Server", ua))
	}
	if r.forceRport && !sip.IsReliable(r.Transport()) {
		res.SetDestination(r.Source())
	}
	if res.StatusCode >= 200 {
		r.responded = true
	}
	if r.Tx == nil {
		return r.srv.ua.TransportLayer().WriteMsg(res)
	}
	return r.Tx.Respond(res)
}
