package codec

// G.711 µ-law and A-law, table driven. Encoding follows the ITU-T G.191
// reference (g711.c): negative samples use the one's complement before
// truncation, so the quantiser is symmetric around -0.5 as in the G.711
// decision tables. Decoding yields the standard's reconstruction values
// scaled to 16 bits (µ-law ±32124, A-law ±32256), identical to sox and
// Asterisk.

var (
	ulawToLin = func() (t [256]int16) {
		for i := range t {
			t[i] = ulawExpand(byte(i))
		}
		return t
	}()
	alawToLin = func() (t [256]int16) {
		for i := range t {
			t[i] = alawExpand(byte(i))
		}
		return t
	}()
	// linToUlaw is indexed by the sample's top 14 bits (s>>2 as uint16 &
	// 0x3fff); that loses nothing because µ-law only looks at 14 bits.
	linToUlaw = func() (t [1 << 14]byte) {
		for i := range t {
			t[i] = ulawCompress(int16(uint16(i) << 2))
		}
		return t
	}()
	// linToAlaw is indexed by the top 12 bits; A-law only uses 12 + sign.
	linToAlaw = func() (t [1 << 12]byte) {
		for i := range t {
			t[i] = alawCompress(int16(uint16(i) << 4))
		}
		return t
	}()
	ulawToAlawTab = func() (t [256]byte) {
		for i := range t {
			t[i] = ulawToAlawSlow(byte(i))
		}
		return t
	}()
	alawToUlawTab = func() (t [256]byte) {
		for i := range t {
			t[i] = alawToUlawSlow(byte(i))
		}
		return t
	}()
)

// UlawToLinear decodes one µ-law byte.
func UlawToLinear(b byte) int16 { return ulawToLin[b] }

// AlawToLinear decodes one A-law byte.
func AlawToLinear(b byte) int16 { return alawToLin[b] }

// LinearToUlaw encodes one sample to µ-law.
func LinearToUlaw(s int16) byte { return linToUlaw[uint16(s)>>2] }

// LinearToAlaw encodes one sample to A-law.
func LinearToAlaw(s int16) byte { return linToAlaw[uint16(s)>>4] }

// UlawToAlaw transcodes one byte with the G.711 µ→A table (not via linear,
// which would differ for the smallest magnitudes).
func UlawToAlaw(b byte) byte { return ulawToAlawTab[b] }

// AlawToUlaw transcodes one byte with the G.711 A→µ table.
func AlawToUlaw(b byte) byte { return alawToUlawTab[b] }

// UlawToAlawFrame transcodes src into dst[:0] (reusing capacity).
func UlawToAlawFrame(dst, src []byte) []byte {
	dst = grow(dst, len(src))
	for i, b := range src {
		dst[i] = ulawToAlawTab[b]
	}
	return dst
}

// AlawToUlawFrame transcodes src into dst[:0] (reusing capacity).
func AlawToUlawFrame(dst, src []byte) []byte {
	dst = grow(dst, len(src))
	for i, b := range src {
		dst[i] = alawToUlawTab[b]
	}
	return dst
}

// ulawCompress is G.191 ulaw_compress for one 16-bit sample.
func ulawCompress(x int16) byte {
	var absno int32
	if x < 0 {
		absno = int32(^x)>>2 + 33
	} else {
		absno = int32(x)>>2 + 33
	}
	if absno > 0x1fff {
		absno = 0x1fff
	}
	seg := int32(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		seg++
	}
	hi := 8 - seg
	lo := 0xf - (absno>>seg)&0xf
	b := byte(hi<<4 | lo)
	if x >= 0 {
		b |= 0x80
	}
	return b
}

// ulawExpand is G.191 ulaw_expand, scaled to 16 bits.
func ulawExpand(b byte) int16 {
	m := ^b
	exp := int32(m>>4) & 7
	mant := int32(m & 0xf)
	step := int32(4) << (exp + 1)
	v := 0x80<<exp + step*mant + step/2 - 4*33
	if b < 0x80 {
		v = -v
	}
	return int16(v)
}

// alawCompress is G.191 alaw_compress for one 16-bit sample.
func alawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32(^x) >> 4
	} else {
		ix = int32(x) >> 4
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix = ix - 16 + exp<<4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55
}

// alawExpand is G.191 alaw_expand, scaled to 16 bits.
func alawExpand(b byte) int16 {
	ix := int32(b^0x55) & 0x7f
	exp := ix >> 4
	mant := ix & 0xf
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if b > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// u2a and a2u are the magnitude conversion tables of G.711 (tables 3 and
// 4), 1-based on the inverted code, as in the widely used Sun g711.c with
// its two known errata fixed (u2a[80] = 80, a2u[79] = 80); the result
// matches the tables in spandsp byte for byte (see the tests).
var (
	u2a = [128]byte{
		1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
		9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
		25, 27, 29, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
		46, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
		64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
		80, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96,
		97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
		113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
	}
	a2u = [128]byte{
		1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23,
		24, 25, 26, 27, 28, 29, 30, 31, 32, 32, 33, 33, 34, 34, 35, 35,
		36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 48, 49, 49,
		50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64,
		65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
		80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
		96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
		112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
	}
)

func ulawToAlawSlow(u byte) byte {
	if u&0x80 != 0 {
		return 0xd5 ^ (u2a[0xff^u] - 1)
	}
	return 0x55 ^ (u2a[0x7f^u] - 1)
}

func alawToUlawSlow(a byte) byte {
	if a&0x80 != 0 {
		return 0xff ^ a2u[a^0xd5]
	}
	return 0x7f ^ a2u[a^0x55]
}

// ulawEncoder and friends are concrete types so the hot loops inline the
// table lookups instead of calling through a func value.
type (
	ulawEncoder struct{}
	ulawDecoder struct{}
	alawEncoder struct{}
	alawDecoder struct{}
)

func (ulawEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	dst = grow(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = linToUlaw[uint16(s)>>2]
	}
	return dst, nil
}

func (ulawDecoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	dst = grow(dst, len(payload))
	for i, b := range payload {
		dst[i] = ulawToLin[b]
	}
	return dst, nil
}

func (alawEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	dst = grow(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = linToAlaw[uint16(s)>>4]
	}
	return dst, nil
}

func (alawDecoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	dst = grow(dst, len(payload))
	for i, b := range payload {
		dst[i] = alawToLin[b]
	}
	return dst, nil
}

var (
	ulawCodec = desc{
		name: "ulaw", encoding: "PCMU", pt: 0, clock: 8000, rate: 8000, channels: 1,
		newEnc: func() (Encoder, error) { return ulawEncoder{}, nil },
		newDec: func() (Decoder, error) { return ulawDecoder{}, nil },
	}
	alawCodec = desc{
		name: "alaw", encoding: "PCMA", pt: 8, clock: 8000, rate: 8000, channels: 1,
		newEnc: func() (Encoder, error) { return alawEncoder{}, nil },
		newDec: func() (Decoder, error) { return alawDecoder{}, nil },
	}
)

var (
	_ Encoder = ulawEncoder{}
	_ Decoder = ulawDecoder{}
	_ Encoder = alawEncoder{}
	_ Decoder = alawDecoder{}
)
