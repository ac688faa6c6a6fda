package sound

import (
	"fmt"
	"strings"
)

const (
	// SampleRate is the rate of the audio a Reader yields and a Writer takes.
	SampleRate = 8000
	// FrameSamples is one 20 ms frame at SampleRate, the unit of Reader.Read.
	FrameSamples = SampleRate / 50
)

// kind is how a file's bytes encode audio.
type kind int

const (
	kindWAV    kind = iota // RIFF WAVE, details in the fmt chunk
	kindSlin               // raw signed 16-bit little-endian
	kindUlaw               // raw G.711 µ-law
	kindAlaw               // raw G.711 A-law
	kindCodec              // frames of a codec package codec (gsm, g722)
	kindSilent             // synthesised silence (no file)
)

// format is one file format, identified by extension as Asterisk does.
type format struct {
	name  string // canonical Asterisk format name
	kind  kind
	rate  int    // sample rate for raw formats
	codec string // codec.Lookup name for kindCodec
	block int    // kindCodec: bytes per codec frame
}

var (
	fmtWAV    = format{name: "wav", kind: kindWAV}
	fmtSln    = format{name: "sln", kind: kindSlin, rate: 8000}
	fmtSln16  = format{name: "sln16", kind: kindSlin, rate: 16000}
	fmtUlaw   = format{name: "ulaw", kind: kindUlaw, rate: 8000}
	fmtAlaw   = format{name: "alaw", kind: kindAlaw, rate: 8000}
	fmtGSM    = format{name: "gsm", kind: kindCodec, rate: 8000, codec: "gsm", block: 33}
	fmtG722   = format{name: "g722", kind: kindCodec, rate: 16000, codec: "g722", block: 160}
	fmtSilent = format{name: "silence", kind: kindSilent, rate: 8000}
)

// searchOrder is the extension preference when a name has none: lossless
// and wideband first, then the narrowband codecs. Asterisk picks the format
// cheapest to translate to the channel's codec; we decode everything to slin
// anyway, so quality decides. ("WAV"/wav49 is not supported.)
var searchOrder = []string{"wav", "sln16", "sln", "ulaw", "pcm", "alaw", "gsm", "g722"}

// formatByExt knows every extension Asterisk's format modules register for
// the formats above.
func formatByExt(ext string) (format, bool) {
	switch strings.TrimPrefix(ext, ".") {
	case "wav":
		return fmtWAV, true
	case "sln", "raw":
		return fmtSln, true
	case "sln16":
		return fmtSln16, true
	case "ulaw", "ul", "mu", "ulw", "pcm":
		return fmtUlaw, true
	case "alaw", "al", "alw":
		return fmtAlaw, true
	case "gsm":
		return fmtGSM, true
	case "g722":
		return fmtG722, true
	}
	return format{}, false
}

// parseFormat accepts a format name or an extension, with or without dot.
func parseFormat(s string) (format, error) {
	if f, ok := formatByExt(strings.ToLower(s)); ok {
		return f, nil
	}
	return format{}, fmt.Errorf("sound: unknown format %q", s)
}
