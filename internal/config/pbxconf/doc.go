// Package pbxconf loads the SIP configuration of an Asterisk configuration
// directory, sip.conf and pjsip.conf, whichever exist, into one PBX view:
// a single endpoint set (pjsip endpoints first, then sip.conf peers),
// merged listeners, and the server-wide settings (user agent, realm, guest
// policy, NAT addresses, outbound registrations).
//
// With neither file, or no listener in them, gopbx listens on UDP and TCP
// 0.0.0.0:5060. A fatal error in either file fails the whole load with an
// error citing file:line, so a reload can keep the configuration it has.
package pbxconf
