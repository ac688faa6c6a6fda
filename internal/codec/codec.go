package codec

import (
	"errors"
	"strings"
)

// Codec describes one codec. Implementations are immutable and safe for
// concurrent use; per-stream state lives in the Encoder and Decoder.
type Codec interface {
	// Name is the Asterisk name: "ulaw", "alaw", "g722", "gsm", "opus".
	Name() string
	// Encoding is the SDP rtpmap encoding name: "PCMU", "PCMA", "G722", "GSM", "opus".
	Encoding() string
	// StaticPT is the static RTP payload type, or -1 when it is dynamic.
	StaticPT() int
	// ClockRate is the RTP clock rate as written in the SDP rtpmap.
	// It differs from SampleRate for G.722 (8000 per RFC 3551).
	ClockRate() int
	// SampleRate is the PCM rate of Decode output and Encode input.
	SampleRate() int
	// Channels is the SDP rtpmap channel count (opus: 2, audio is still mono).
	Channels() int
	// FrameSamples is the number of PCM samples in 20 ms at SampleRate.
	FrameSamples() int
	// Fmtp is the default SDP fmtp parameter string, or "".
	Fmtp() string
	// NewEncoder returns a new encoder with fresh state.
	NewEncoder() (Encoder, error)
	// NewDecoder returns a new decoder with fresh state.
	NewDecoder() (Decoder, error)
}

// Encoder turns slin into payload bytes. pcm holds one or more whole frames
// (GSM: a multiple of 160 samples). The result is written to dst[:0],
// reusing its capacity, and returned. An Encoder is not safe for concurrent
// use.
type Encoder interface {
	Encode(dst []byte, pcm []int16) ([]byte, error)
}

// Decoder turns payload bytes into slin, with the same dst reuse as
// Encoder. A Decoder is not safe for concurrent use.
type Decoder interface {
	Decode(dst []int16, payload []byte) ([]int16, error)
}

// EncoderFunc adapts a function to Encoder, for stateless codecs and tests.
type EncoderFunc func(dst []byte, pcm []int16) ([]byte, error)

// Encode calls f(dst, pcm).
func (f EncoderFunc) Encode(dst []byte, pcm []int16) ([]byte, error) { return f(dst, pcm) }

// DecoderFunc adapts a function to Decoder.
type DecoderFunc func(dst []int16, payload []byte) ([]int16, error)

// Decode calls f(dst, payload).
func (f DecoderFunc) Decode(dst []int16, payload []byte) ([]int16, error) { return f(dst, payload) }

// Errors returned by encoders and decoders, wrapped with details.
var (
	// ErrFrameSize means the input is not a whole number of codec frames.
	ErrFrameSize = errors.New("codec: input is not a whole number of frames")
	// ErrUnsupported means a requested rate or conversion is not implemented.
	ErrUnsupported = errors.New("codec: unsupported")
)

// registry is the read-only, ordered list of compiled-in codecs.
var registry = func() []Codec {
	r := []Codec{ulawCodec, alawCodec, g722Codec, gsmCodec}
	return append(r, optionalCodecs()...)
}()

// aliases maps extra Lookup names to Asterisk names.
var aliases = map[string]string{
	"g711u": "ulaw", "pcmu": "ulaw", "mulaw": "ulaw",
	"g711a": "alaw", "pcma": "alaw",
	"g.722": "g722",
}

// Lookup finds a codec by Asterisk name, case-insensitively. The aliases
// "g711u", "pcmu", "g711a" and "pcma" are accepted too.
func Lookup(name string) (Codec, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		n = a
	}
	for _, c := range registry {
		if c.Name() == n {
			return c, true
		}
	}
	return nil, false
}

// ByEncoding finds a codec by SDP rtpmap encoding name (case-insensitive)
// and clock rate as written in the rtpmap (so "G722/8000").
func ByEncoding(encoding string, clockRate int) (Codec, bool) {
	for _, c := range registry {
		if strings.EqualFold(c.Encoding(), encoding) && c.ClockRate() == clockRate {
			return c, true
		}
	}
	return nil, false
}

// All returns every compiled-in codec in a stable order: ulaw, alaw, g722,
// gsm, then opus when built with it. The slice is a fresh copy.
func All() []Codec {
	return append([]Codec(nil), registry...)
}

// grow returns s[:n], reallocating only when cap(s) < n.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
