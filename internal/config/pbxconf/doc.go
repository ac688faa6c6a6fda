// Package pbxconf loads the SIP configuration of an Asterisk configuration
// directory, sip.conf and pjsip.conf, whichever exist, into one PBX view:
// a single endpoint set (pjsip endpoints first, then sip.conf peers),
// merged listeners, and the server-wide settings (user agent, realm, guest
// policy, NAT addresses, outbound registrations).
//
// TLS and WSS listeners get their certificate loaded here (tls.go), so a
// missing or mismatched file is an error at the line that named it.
// http.conf, when it enables Asterisk's HTTP server, places the WebSocket
// listeners as Asterisk does.
//
// With neither file, or no listener in them, gopbx listens on UDP and TCP
// 0.0.0.0:5060. A fatal error in either file fails the whole load with an
// error citing file:line, so a reload can keep the configuration it has.
package pbxconf
