// Package sipserver runs gopbx's SIP transports on github.com/emiago/sipgo and
// turns each incoming request into a call of a Handler.
//
// sipgo provides parsing, transports and the RFC 3261 transaction layer.
// This package adds what a PBX needs around it (see docs/architecture.md):
//
//   - sockets it opens itself, with large kernel buffers, handed to sipgo;
//     TLS and WSS listeners read their tls.Config at each handshake, so
//     SetTLS can install a renewed certificate (reload) without closing
//     any connection;
//   - request validation before any handler runs: missing, duplicate or
//     inconsistent mandatory headers (Content-Length too) get a 400 whose
//     reason phrase names the fault, a SIP version other than 2.0 gets 505,
//     Max-Forwards 0 gets 483, an unknown Require gets 420, an unknown
//     Request-URI scheme gets 416, an INVITE body gopbx cannot read gets
//     415 with Accept, an unknown method 501 and a known but unserved one
//     405 with Allow; a request whose Via cannot route a response is
//     dropped;
//   - a fast path for UDP REGISTER, OPTIONS, BYE, INVITE, CANCEL and ACK
//     outside sipgo's transaction layer (fastpath.go, with its own INVITE
//     server transaction in invitetx.go), and a Gate that drops banned sources before
//     parsing and admits or refuses each request (rate limits, scanners);
//   - a Server header from the configured user agent on every response;
//   - message tracing for `sip set debug` with per-address filters.
//
// Handlers own the final response: a Handler must answer the request (or
// deliberately not, for ACK) before ServeSIP returns, because the server
// transaction is released when it does.
package sipserver
