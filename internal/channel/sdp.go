package channel

import "context"

// SDPCarrier is implemented by drivers that pass session descriptions
// through while the media engine is not anchoring the call: the offer a
// leg received is what the other leg sends, and the answer comes back.
type SDPCarrier interface {
	// RemoteSDP is the session description the far end sent (the offer of
	// an inbound leg, the answer of an outbound one).
	RemoteSDP() []byte
	// SetLocalSDP sets what this leg sends next in 183/200 (inbound) or in
	// the INVITE (outbound).
	SetLocalSDP(sdp []byte)
}

// Reinviter is implemented by drivers that can send a new offer to the far
// end during a call (hold, unhold, codec change) and return its answer.
type Reinviter interface {
	Reinvite(ctx context.Context, offer []byte) (answer []byte, err error)
}
