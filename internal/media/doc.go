// Package media anchors the audio of SIP calls: a Stream per call leg owns
// an RTP session (internal/rtp), negotiates codecs by SDP offer/answer in
// the endpoint's allow order, relays packets to the bridged leg untouched
// when both legs use the same codec and transcodes through 8 kHz linear
// audio when they do not, converts DTMF between RFC 4733, SIP INFO and
// in-band tones, and gives applications (Playback, Echo, Record, Read...)
// 20 ms frames of 8 kHz audio and DTMF digits.
//
// The relay runs on the receiving session's goroutine: no queue and no
// extra goroutine per call, so a relayed call costs two reader goroutines
// and four sockets.
package media
