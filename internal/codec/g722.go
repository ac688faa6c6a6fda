package codec

import "fmt"

// G.722 at 64 kbit/s (mode 1): a 24-tap QMF splits 16 kHz audio into two
// 8 kHz sub-bands, coded with 6-bit (low) and 2-bit (high) ADPCM. The
// arithmetic follows the ITU-T G.722 block diagram (block numbers in the
// comments) as structured in the public-domain CMU/spandsp code, so output
// is bit-exact with spandsp and Asterisk. Each octet is ihigh<<6 | ilow.
//
// The sub-band coders work on 15-bit signals: the encoder's QMF scaling
// drops one bit of the 16-bit input and the decoder restores it.

var g722Codec = desc{
	name: "g722", encoding: "G722", pt: 9,
	clock: 8000, // RFC 3551 keeps the historical 8000 Hz RTP clock
	rate:  16000, channels: 1,
	newEnc: func() (Encoder, error) { return NewG722Encoder(), nil },
	newDec: func() (Decoder, error) { return NewG722Decoder(), nil },
}

var (
	g722QMF = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
	// Block 1L quantiser decision levels and output codes.
	g722Q6  = [32]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	g722ILN = [32]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	g722ILP = [32]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	// Block 3L log scale factor adaptation.
	g722WL   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	g722RL42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	// Block 3L/3H inverse log table.
	g722ILB = [32]int32{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008}
	// Inverse quantisers: 4-bit (predictor feedback) and 6-bit (output).
	g722QM4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	g722QM6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	// High band: 2-bit quantiser and its adaptation.
	g722QM2 = [4]int32{-7408, -1616, 7408, 1616}
	g722IHN = [3]int32{0, 1, 0}
	g722IHP = [3]int32{0, 3, 2}
	g722WH  = [3]int32{0, -214, 798}
	g722RH2 = [4]int32{2, 1, 2, 1}
)

// g722Band is the ADPCM state of one sub-band (blocks 2-4).
type g722Band struct {
	s, sp, sz int32    // predicted signal, pole and zero parts
	r         [3]int32 // reconstructed signal history
	a, ap     [3]int32 // pole coefficients, and their update
	p         [3]int32 // partial reconstructed signal history
	d         [7]int32 // quantised difference history
	b, bp     [7]int32 // zero coefficients, and their update
	sg        [7]int32 // signs
	nb        int32    // log scale factor
	det       int32    // linear scale factor
}

func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// block4 updates the pole-zero predictor with the quantised difference d.
func (b *g722Band) block4(d int32) {
	// RECONS, PARREC
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2
	for i := range 3 {
		b.sg[i] = b.p[i] >> 15
	}
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if b.sg[0] == b.sg[1] {
		wd2 = -wd1
	}
	if wd2 > 32767 {
		wd2 = 32767
	}
	wd3 := int32(-128)
	if b.sg[0] == b.sg[2] {
		wd3 = 128
	}
	wd3 += wd2 >> 7
	wd3 += (b.a[2] * 32512) >> 15
	b.ap[2] = min(max(wd3, -12288), 12288)

	// UPPOL1
	b.sg[0] = b.p[0] >> 15
	b.sg[1] = b.p[1] >> 15
	wd1 = -192
	if b.sg[0] == b.sg[1] {
		wd1 = 192
	}
	wd2 = (b.a[1] * 32640) >> 15
	b.ap[1] = sat16(wd1 + wd2)
	wd3 = sat16(15360 - b.ap[2])
	b.ap[1] = min(max(b.ap[1], -wd3), wd3)

	// UPZERO
	wd1 = 128
	if d == 0 {
		wd1 = 0
	}
	b.sg[0] = d >> 15
	for i := 1; i < 7; i++ {
		b.sg[i] = b.d[i] >> 15
		wd2 = -wd1
		if b.sg[i] == b.sg[0] {
			wd2 = wd1
		}
		wd3 = (b.b[i] * 32640) >> 15
		b.bp[i] = sat16(wd2 + wd3)
	}

	// DELAYA
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP
	wd1 = sat16(b.r[1] + b.r[1])
	wd1 = (b.a[1] * wd1) >> 15
	wd2 = sat16(b.r[2] + b.r[2])
	wd2 = (b.a[2] * wd2) >> 15
	b.sp = sat16(wd1 + wd2)

	// FILTEZ
	b.sz = 0
	for i := 6; i > 0; i-- {
		wd1 = sat16(b.d[i] + b.d[i])
		b.sz += (b.b[i] * wd1) >> 15
	}
	b.sz = sat16(b.sz)

	// PREDIC
	b.s = sat16(b.sp + b.sz)
}

// adaptLow is blocks 3L LOGSCL and SCALEL.
func (b *g722Band) adaptLow(ril int32) {
	nb := (b.nb*127)>>7 + g722WL[g722RL42[ril]]
	b.nb = min(max(nb, 0), 18432)
	b.det = scale(b.nb, 8)
}

// adaptHigh is blocks 3H LOGSCH and SCALEH.
func (b *g722Band) adaptHigh(ihigh int32) {
	nb := (b.nb*127)>>7 + g722WH[g722RH2[ihigh]]
	b.nb = min(max(nb, 0), 22528)
	b.det = scale(b.nb, 10)
}

func scale(nb, bias int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := bias - nb>>11
	var wd3 int32
	if wd2 < 0 {
		wd3 = g722ILB[wd1] << -wd2
	} else {
		wd3 = g722ILB[wd1] >> wd2
	}
	return wd3 << 2
}

func newG722Bands() [2]g722Band {
	var b [2]g722Band
	b[0].det = 32
	b[1].det = 8
	return b
}

// G722Encoder encodes 16 kHz slin to G.722 at 64 kbit/s, one octet per
// two samples.
type G722Encoder struct {
	band [2]g722Band
	x    [24]int32 // QMF input history
}

// NewG722Encoder returns an encoder in the reset state.
func NewG722Encoder() *G722Encoder { return &G722Encoder{band: newG722Bands()} }

// Encode encodes pcm, whose length must be even, into dst[:0].
func (e *G722Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%2 != 0 {
		return dst[:0], fmt.Errorf("codec: g722 encode %d samples: %w", len(pcm), ErrFrameSize)
	}
	dst = grow(dst, len(pcm)/2)
	for j := range dst {
		// Transmit QMF: shift in two samples, keep one output per band.
		copy(e.x[:22], e.x[2:])
		e.x[22] = int32(pcm[2*j])
		e.x[23] = int32(pcm[2*j+1])
		var sumEven, sumOdd int32
		for i := range 12 {
			sumOdd += e.x[2*i] * g722QMF[i]
			sumEven += e.x[2*i+1] * g722QMF[11-i]
		}
		// >>14: QMF DC gain 4096, two filters summed, 15-bit sub-bands.
		xlow := (sumEven + sumOdd) >> 14
		xhigh := (sumEven - sumOdd) >> 14

		dst[j] = e.encodeBands(xlow, xhigh)
	}
	return dst, nil
}

// encodeBands runs the two sub-band ADPCM encoders on one pair of 15-bit
// sub-band samples (the ITU test sequences enter here, bypassing the QMF).
func (e *G722Encoder) encodeBands(xlow, xhigh int32) byte {
	lo, hi := &e.band[0], &e.band[1]
	// Block 1L: SUBTRA, QUANTL
	el := sat16(xlow - lo.s)
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	// First level i in [1, 30) with wd below its threshold, else 30;
	// the thresholds grow with i, so a binary search finds it.
	i, hiIdx := 1, 30
	for i < hiIdx {
		m := int(uint(i+hiIdx) >> 1)
		if wd < (g722Q6[m]*lo.det)>>12 {
			hiIdx = m
		} else {
			i = m + 1
		}
	}
	ilow := g722ILP[i]
	if el < 0 {
		ilow = g722ILN[i]
	}
	// Block 2L INVQAL, then 3L, then 4L.
	ril := ilow >> 2
	dlow := (lo.det * g722QM4[ril]) >> 15
	lo.adaptLow(ril)
	lo.block4(dlow)

	// Block 1H: SUBTRA, QUANTH
	eh := sat16(xhigh - hi.s)
	wd = eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := 1
	if wd >= (564*hi.det)>>12 {
		mih = 2
	}
	ihigh := g722IHP[mih]
	if eh < 0 {
		ihigh = g722IHN[mih]
	}
	// Block 2H INVQAH, then 3H, then 4H.
	dhigh := (hi.det * g722QM2[ihigh]) >> 15
	hi.adaptHigh(ihigh)
	hi.block4(dhigh)

	return byte(ihigh<<6 | ilow)
}

// G722Decoder decodes G.722 at 64 kbit/s to 16 kHz slin, two samples per
// octet.
type G722Decoder struct {
	band [2]g722Band
	x    [24]int32 // QMF history
}

// NewG722Decoder returns a decoder in the reset state.
func NewG722Decoder() *G722Decoder { return &G722Decoder{band: newG722Bands()} }

// Decode decodes payload into dst[:0].
func (d *G722Decoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	dst = grow(dst, 2*len(payload))
	for j, code := range payload {
		rlow, rhigh := d.decodeBands(code)

		// Receive QMF
		copy(d.x[:22], d.x[2:])
		d.x[22] = rlow + rhigh
		d.x[23] = rlow - rhigh
		var xout1, xout2 int32
		for i := range 12 {
			xout2 += d.x[2*i] * g722QMF[i]
			xout1 += d.x[2*i+1] * g722QMF[11-i]
		}
		dst[2*j] = int16(sat16(xout1 >> 11))
		dst[2*j+1] = int16(sat16(xout2 >> 11))
	}
	return dst, nil
}

// decodeBands runs the two sub-band ADPCM decoders on one octet and returns
// the reconstructed 15-bit sub-band samples.
func (d *G722Decoder) decodeBands(code byte) (rlow, rhigh int32) {
	lo, hi := &d.band[0], &d.band[1]
	ilow := int32(code & 0x3f)
	ihigh := int32(code>>6) & 3

	// Block 5L INVQBL, RECONS; 6L LIMIT
	rlow = lo.s + (lo.det*g722QM6[ilow])>>15
	rlow = min(max(rlow, -16384), 16383)
	// Block 2L INVQAL, 3L, 4L
	ril := ilow >> 2
	dlow := (lo.det * g722QM4[ril]) >> 15
	lo.adaptLow(ril)
	lo.block4(dlow)

	// Block 2H INVQAH, 5H RECONS, 6H LIMIT
	dhigh := (hi.det * g722QM2[ihigh]) >> 15
	rhigh = min(max(dhigh+hi.s, -16384), 16383)
	hi.adaptHigh(ihigh)
	hi.block4(dhigh)
	return rlow, rhigh
}

var (
	_ Encoder = (*G722Encoder)(nil)
	_ Decoder = (*G722Decoder)(nil)
)
