package channel

import "time"

// Media is a leg's anchored audio as applications see it: 20 ms frames of
// 8 kHz signed linear audio and DTMF digits, whatever codec and DTMF mode
// the far end uses.
type Media interface {
	// Audio delivers frames from the far end while the leg is not bridged.
	// Frames nobody reads are dropped, never queued without bound.
	Audio() <-chan []int16
	// Digits delivers DTMF from the far end (RFC 4733, INFO or in-band).
	Digits() <-chan byte
	// Write sends whole 20 ms frames to the far end. The caller paces.
	Write(pcm []int16) error
	// SendDTMF sends a digit in the far end's DTMF mode.
	SendDTMF(digit byte, d time.Duration) error
	// Join relays audio and DTMF between this leg and peer both ways until
	// Leave on either; false when peer is not anchored media.
	Join(peer Media) bool
	// Leave ends a Join; audio returns to the application side.
	Leave()
}

// MediaOf returns ch's anchored media, or nil for pass-through calls.
func MediaOf(ch *Channel) Media {
	m, _ := ch.Media().(Media)
	return m
}

// JoinMedia relays media between a and b when both are anchored. Dial uses
// it for early media and Bridge on answer.
func JoinMedia(a, b *Channel) bool {
	ma, mb := MediaOf(a), MediaOf(b)
	if ma == nil || mb == nil {
		return false
	}
	return ma.Join(mb)
}
