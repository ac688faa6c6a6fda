// Package chansip is the SIP channel driver: it turns an INVITE from an
// endpoint into an inbound channel.Channel that runs the dialplan, and
// places outbound calls for Dial(PJSIP/...) and Dial(SIP/...). The two legs
// of a call are separate SIP dialogs joined in a bridge: gopbx is a
// back-to-back user agent.
//
// Until the media engine lands, session descriptions pass through: the
// caller's offer is sent to the callee and the callee's answer back
// (direct media). A channel answered by the dialplan itself (Answer())
// gets an inactive answer.
//
// Dialogs are sipgo's DialogServerSession/DialogClientSession (2xx
// retransmission, ACK, CANCEL, BYE building), indexed here by dialog ID so
// in-dialog requests (ACK, BYE, re-INVITE, INFO) find their leg.
package chansip
