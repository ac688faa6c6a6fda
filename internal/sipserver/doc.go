// Package sipserver runs gopbx's SIP transports on github.com/emiago/sipgo and
// turns each incoming request into a call of a Handler.
//
// sipgo provides parsing, transports and the RFC 3261 transaction layer.
// This package adds what a PBX needs around it (see docs/architecture.md):
//
//   - sockets it opens itself, with large kernel buffers, handed to sipgo;
//   - request validation before any handler runs: missing or inconsistent
//     mandatory headers get a 400 whose reason phrase names the fault,
//     Max-Forwards 0 gets 483, an unknown Require gets 420, an unknown
//     Request-URI scheme gets 416, an unknown method 501 and a known but
//     unserved one 405 with Allow;
//   - a Server header from the configured user agent on every response;
//   - message tracing for `sip set debug` with per-address filters.
//
// Handlers own the final response: a Handler must answer the request (or
// deliberately not, for ACK) before ServeSIP returns, because the server
// transaction is released when it does.
package sipserver
