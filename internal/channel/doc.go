// Package channel is the call-leg model the dialplan, the applications and
// the channel drivers share, after Asterisk's ast_channel: a Channel has a
// name (PJSIP/1000-00000001), a state (Down, Ring, Ringing, Up), caller ID,
// variables with Asterisk's inheritance rules, a dialplan location, and a
// context that ends when the leg hangs up.
//
// Drivers (chansip for SIP) implement Driver and embed *Base, which holds
// everything that is not protocol: state, variables, hangup cause. Dialling
// goes through a Registry of technologies ("PJSIP", "SIP", "Local").
package channel
