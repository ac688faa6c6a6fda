//go:build opus && cgo

package codec

// Opus through libopus (Debian: libopus-dev), built only with the "opus"
// tag and cgo. Audio is mono at 48 kHz, the codec's native rate; the SDP
// still says opus/48000/2 as RFC 7587 requires. Use NewOpusEncoderRate
// and NewOpusDecoderRate to run at 16 kHz instead and skip resampling.

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_*_ctl are variadic, which cgo cannot call; wrap the few we need.
static int gopbx_opus_enc_setup(OpusEncoder *e, int fec, int loss, int complexity) {
	int err = opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity));
	if (err != OPUS_OK) return err;
	err = opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(fec));
	if (err != OPUS_OK) return err;
	err = opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss));
	if (err != OPUS_OK) return err;
	return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

const (
	opusMaxPacket = 1500     // bytes; one RTP payload
	opusMaxFrame  = 120 * 48 // 120 ms at 48 kHz, the largest Opus frame
	opusLossPerc  = 5        // expected loss, lets the encoder spend bits on FEC
	// opusComplexity trades quality for CPU: libopus' default of 10 costs
	// several times the CPU of 5 for little audible gain on VoIP speech.
	opusComplexity = 5
)

var opusCodec = desc{
	name: "opus", encoding: "opus", pt: -1, clock: 48000, rate: 48000, channels: 2,
	fmtp:   "useinbandfec=1",
	newEnc: func() (Encoder, error) { return NewOpusEncoderRate(48000) },
	newDec: func() (Decoder, error) { return NewOpusDecoderRate(48000) },
}

func optionalCodecs() []Codec { return []Codec{opusCodec} }

// OpusError is a libopus error code.
type OpusError int

func (e OpusError) Error() string {
	return "opus: " + C.GoString(C.opus_strerror(C.int(e)))
}

// OpusEncoder encodes mono slin to Opus with in-band FEC enabled.
type OpusEncoder struct {
	st   *C.OpusEncoder
	rate int
}

// NewOpusEncoderRate returns an encoder for PCM at rate (8000, 12000,
// 16000, 24000 or 48000 Hz).
func NewOpusEncoderRate(rate int) (*OpusEncoder, error) {
	var cerr C.int
	st := C.opus_encoder_create(C.opus_int32(rate), 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("codec: opus encoder at %d Hz: %w", rate, OpusError(cerr))
	}
	if e := C.gopbx_opus_enc_setup(st, 1, opusLossPerc, opusComplexity); e != C.OPUS_OK {
		C.opus_encoder_destroy(st)
		return nil, fmt.Errorf("codec: opus encoder setup: %w", OpusError(e))
	}
	enc := &OpusEncoder{st: st, rate: rate}
	runtime.AddCleanup(enc, func(st *C.OpusEncoder) { C.opus_encoder_destroy(st) }, st)
	return enc, nil
}

// Encode encodes pcm, exactly one Opus frame (2.5, 5, 10, 20, 40 or 60 ms;
// normally 20 ms), into one packet in dst[:0].
func (e *OpusEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm) == 0 {
		return dst[:0], fmt.Errorf("codec: opus encode 0 samples: %w", ErrFrameSize)
	}
	dst = grow(dst, opusMaxPacket)
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.opus_int32(len(dst)))
	runtime.KeepAlive(e)
	if n < 0 {
		return dst[:0], fmt.Errorf("codec: opus encode %d samples: %w", len(pcm), OpusError(n))
	}
	return dst[:n], nil
}

// OpusDecoder decodes Opus packets to mono slin.
type OpusDecoder struct {
	st   *C.OpusDecoder
	rate int
}

// NewOpusDecoderRate returns a decoder producing PCM at rate.
func NewOpusDecoderRate(rate int) (*OpusDecoder, error) {
	var cerr C.int
	st := C.opus_decoder_create(C.opus_int32(rate), 1, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("codec: opus decoder at %d Hz: %w", rate, OpusError(cerr))
	}
	dec := &OpusDecoder{st: st, rate: rate}
	runtime.AddCleanup(dec, func(st *C.OpusDecoder) { C.opus_decoder_destroy(st) }, st)
	return dec, nil
}

// Decode decodes one packet into dst[:0]. An empty payload means the
// packet was lost: the decoder then conceals 20 ms of audio.
func (d *OpusDecoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	return d.decode(dst, payload, false)
}

// DecodeFEC recovers the packet before payload from its in-band FEC data;
// call it when a packet is missing and the next one has arrived, then
// Decode the next one as usual.
func (d *OpusDecoder) DecodeFEC(dst []int16, next []byte) ([]int16, error) {
	return d.decode(dst, next, true)
}

func (d *OpusDecoder) decode(dst []int16, payload []byte, fec bool) ([]int16, error) {
	frame := d.rate / 50
	max := opusMaxFrame * d.rate / 48000
	var data *C.uchar
	if len(payload) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&payload[0]))
	} else {
		max = frame
	}
	if fec {
		max = frame
	}
	dst = grow(dst, max)
	cfec := C.int(0)
	if fec {
		cfec = 1
	}
	n := C.opus_decode(d.st, data, C.opus_int32(len(payload)),
		(*C.opus_int16)(unsafe.Pointer(&dst[0])), C.int(max), cfec)
	runtime.KeepAlive(d)
	if n < 0 {
		return dst[:0], fmt.Errorf("codec: opus decode %d bytes: %w", len(payload), OpusError(n))
	}
	return dst[:n], nil
}

var (
	_ Encoder = (*OpusEncoder)(nil)
	_ Decoder = (*OpusDecoder)(nil)
)
