// Package registrar implements REGISTER (RFC 3261 §10) on top of a
// location.Store: digest authentication through a Guard, expiry limits
// (423 with Min-Expires), several contacts per AOR with max_contacts and
// remove_existing, "Contact: *" removal, Call-ID/CSeq ordering, and the NAT
// facts (source address, transport) that later requests to the phone need.
//
// It also expires bindings on time and qualifies contacts with OPTIONS pings.
package registrar
