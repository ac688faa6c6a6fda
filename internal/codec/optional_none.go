//go:build !opus || !cgo

package codec

// optionalCodecs lists codecs that need cgo; none in this build.
func optionalCodecs() []Codec { return nil }
