// Package codec implements the audio codecs of the media engine and the
// sample-rate conversion between them.
//
// Internal audio is signed linear 16-bit mono PCM ("slin"). Every codec
// converts between slin at its [Codec.SampleRate] and RTP payload bytes.
// A [Codec] is an immutable description found with [Lookup] (Asterisk name)
// or [ByEncoding] (SDP rtpmap); it makes per-stream [Encoder] and [Decoder]
// values, which keep codec state and must not be shared between goroutines.
//
// Pure Go codecs: ulaw (PCMU), alaw (PCMA), g722 and gsm. Opus needs cgo,
// libopus and the build tag "opus"; without it Lookup("opus") fails and
// [All] does not list it.
//
// Besides the codecs, the package has table-driven G.711 sample helpers
// ([UlawToLinear], [LinearToAlaw], ...), direct µ-law/A-law transcoding
// ([UlawToAlaw], [UlawToAlawFrame]) for the relay, and a stateful polyphase
// [Resampler] between 8, 16 and 48 kHz.
//
// Encoders and decoders use append-style buffer reuse: they write into
// dst[:0], growing it only when its capacity is too small, and return the
// result, so a caller that keeps the returned slice allocates nothing in
// steady state.
package codec
