// Package trunk keeps gopbx registered with the providers and servers its
// configuration names: sip.conf "register =>" lines and pjsip
// type=registration objects.
//
// Spec is one registration, normalised from either file (FromConfig).
// Manager runs one client per Spec: REGISTER with our Contact, digest
// answers to 401/407, refresh shortly before the granted expiry, retries
// after failures with the file's own intervals and limits, and
// un-REGISTER (Expires: 0) on removal and shutdown, as Asterisk does on
// unload. Manager.Sync applies a reload: clients whose Spec is unchanged
// keep running, the others are stopped and started again.
//
// States are named as the Asterisk console shows them: chan_sip's
// "Request Sent", "Auth. Sent", "Registered", "Rejected", "No
// Authentication", "Failed", "Timeout", "Unregistered" for sip.conf, and
// res_pjsip's "Unregistered", "Registered", "Rejected" for pjsip.
//
// Calls over trunks (DIDs, Dial(SIP/exten@gw), outbound auth and proxy)
// are chansip's; this package only keeps the registrations alive.
package trunk
