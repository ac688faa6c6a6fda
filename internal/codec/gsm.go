package codec

import (
	"errors"
	"fmt"
	"math/bits"
)

// GSM 06.10 full rate (RPE-LTP, 13 kbit/s): 160 samples at 8 kHz per
// 33-byte frame in the RFC 3551 / libgsm layout (0xD signature nibble, then
// the 260 parameter bits MSB first). The fixed-point arithmetic follows the
// standard's section 4 as structured in libgsm (Degener/Bormann), so frames
// are bit-exact with libgsm, sox and Asterisk. Section numbers in the
// comments refer to GSM 06.10.

const (
	gsmFrameSamples = 160
	gsmFrameBytes   = 33
	gsmMagic        = 0xd
)

var gsmCodec = desc{
	name: "gsm", encoding: "GSM", pt: 3, clock: 8000, rate: 8000, channels: 1,
	newEnc: func() (Encoder, error) { return NewGSMEncoder(), nil },
	newDec: func() (Decoder, error) { return NewGSMDecoder(), nil },
}

// ErrGSMFrame means a GSM payload is not a whole number of valid frames.
var ErrGSMFrame = errors.New("codec: bad gsm frame")

// 16/32-bit saturating fixed-point primitives of the standard.

func gsmAdd(a, b int16) int16 { return sat16to16(int32(a) + int32(b)) }
func gsmSub(a, b int16) int16 { return sat16to16(int32(a) - int32(b)) }

func sat16to16(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// gsmMultR is mult_r; like libgsm it wraps for -32768 * -32768.
func gsmMultR(a, b int16) int16 { return int16((int32(a)*int32(b) + 16384) >> 15) }

func gsmMult(a, b int16) int16 { return int16((int32(a) * int32(b)) >> 15) }

func gsmLAdd(a, b int32) int32 {
	s := int64(a) + int64(b)
	if s > 2147483647 {
		return 2147483647
	}
	if s < -2147483648 {
		return -2147483648
	}
	return int32(s)
}

func gsmAbs(a int16) int16 {
	if a < 0 {
		if a == -32768 {
			return 32767
		}
		return -a
	}
	return a
}

// gsmNorm is the number of left shifts that normalise a (a != 0).
func gsmNorm(a int32) int {
	if a < 0 {
		if a <= -1073741824 {
			return 0
		}
		a = ^a
	}
	return bits.LeadingZeros32(uint32(a)) - 1
}

func gsmAsr(a int16, n int) int16 {
	switch {
	case n >= 16:
		if a < 0 {
			return -1
		}
		return 0
	case n <= -16:
		return 0
	case n < 0:
		return a << -n
	}
	return a >> n
}

func gsmAsl(a int16, n int) int16 {
	switch {
	case n >= 16:
		return 0
	case n <= -16:
		if a < 0 {
			return -1
		}
		return 0
	case n < 0:
		return gsmAsr(a, -n)
	}
	return a << n
}

// gsmDiv is the standard's div(num, denum) for 0 <= num <= denum.
func gsmDiv(num, denum int16) int16 {
	if num == 0 {
		return 0
	}
	lnum, lden := int32(num), int32(denum)
	var div int16
	for range 15 {
		div <<= 1
		lnum <<= 1
		if lnum >= lden {
			lnum -= lden
			div++
		}
	}
	return div
}

// Tables 4.1 to 4.6.
var (
	gsmLarA   = [8]int16{20480, 20480, 20480, 20480, 13964, 15360, 8534, 9036}
	gsmLarB   = [8]int16{0, 0, 2048, -2560, 94, -1792, -341, -1144}
	gsmLarMAC = [8]int16{31, 31, 15, 15, 7, 7, 3, 3}
	gsmLarMIC = [8]int16{-32, -32, -16, -16, -8, -8, -4, -4}
	gsmINVA   = [8]int16{13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708}
	gsmDLB    = [4]int16{6554, 16384, 26214, 32767}
	gsmQLB    = [4]int16{3277, 11469, 21299, 32767}
	gsmNRFAC  = [8]int16{29128, 26215, 23832, 21846, 20165, 18725, 17476, 16384}
	gsmFAC    = [8]int16{18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767}
	// gsmLarBits are the widths of LARc[0..7] in the frame.
	gsmLarBits = [8]uint{6, 6, 5, 5, 4, 4, 3, 3}
)

// gsmParams is one frame's parameters (section 1.7, table 1.1).
type gsmParams struct {
	larc              [8]int16
	nc, bc, mc, xmaxc [4]int16
	xmc               [52]int16
}

func (p *gsmParams) pack(dst []byte) {
	var w bitWriter
	w.dst = dst[:0]
	w.put(gsmMagic, 4)
	for i, n := range gsmLarBits {
		w.put(uint32(p.larc[i]), n)
	}
	for s := range 4 {
		w.put(uint32(p.nc[s]), 7)
		w.put(uint32(p.bc[s]), 2)
		w.put(uint32(p.mc[s]), 2)
		w.put(uint32(p.xmaxc[s]), 6)
		for i := range 13 {
			w.put(uint32(p.xmc[13*s+i]), 3)
		}
	}
}

func (p *gsmParams) unpack(src []byte) bool {
	r := bitReader{src: src}
	if r.get(4) != gsmMagic {
		return false
	}
	for i, n := range gsmLarBits {
		p.larc[i] = int16(r.get(n))
	}
	for s := range 4 {
		p.nc[s] = int16(r.get(7))
		p.bc[s] = int16(r.get(2))
		p.mc[s] = int16(r.get(2))
		p.xmaxc[s] = int16(r.get(6))
		for i := range 13 {
			p.xmc[13*s+i] = int16(r.get(3))
		}
	}
	return true
}

type bitWriter struct {
	dst  []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) put(v uint32, n uint) {
	w.acc = w.acc<<n | v&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.dst = append(w.dst, byte(w.acc>>w.nacc))
	}
}

type bitReader struct {
	src  []byte
	acc  uint32
	nacc uint
}

func (r *bitReader) get(n uint) uint32 {
	for r.nacc < n {
		r.acc = r.acc<<8 | uint32(r.src[0])
		r.src = r.src[1:]
		r.nacc += 8
	}
	r.nacc -= n
	return r.acc >> r.nacc & (1<<n - 1)
}

// GSMEncoder encodes 8 kHz slin to GSM 06.10 frames.
type GSMEncoder struct {
	z1    int16 // offset compensation state (4.2.2)
	lz2   int32
	mp    int16    // preemphasis state (4.2.3)
	u     [8]int16 // short term analysis filter memory
	larpp [2][8]int16
	j     int
	dp0   [280]int16 // reconstructed short term residual, 120 past + 160
}

// NewGSMEncoder returns an encoder in the reset state.
func NewGSMEncoder() *GSMEncoder { return &GSMEncoder{} }

// Encode encodes pcm, a multiple of 160 samples, into 33-byte frames.
func (e *GSMEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%gsmFrameSamples != 0 {
		return dst[:0], fmt.Errorf("codec: gsm encode %d samples: %w", len(pcm), ErrFrameSize)
	}
	n := len(pcm) / gsmFrameSamples
	dst = grow(dst, n*gsmFrameBytes)
	var p gsmParams
	for f := range n {
		e.encodeFrame(pcm[f*gsmFrameSamples:(f+1)*gsmFrameSamples], &p)
		p.pack(dst[f*gsmFrameBytes : (f+1)*gsmFrameBytes])
	}
	return dst, nil
}

func (e *GSMEncoder) encodeFrame(in []int16, p *gsmParams) {
	var so [160]int16
	e.preprocess(in, &so)
	lpcAnalysis(&so, &p.larc)
	e.shortTermAnalysis(&p.larc, &so)

	// e[-5..-1] and e[40..44] stay zero for the weighting filter.
	var ebuf [50]int16
	for k := range 4 {
		base := 120 + 40*k // dp[0] in dp0
		d := so[40*k : 40*k+40]
		nc, bc := ltpParameters(d, &e.dp0, base)
		p.nc[k], p.bc[k] = nc, bc
		// 4.2.12 long term analysis filtering
		var dpp [40]int16
		bp := gsmQLB[bc]
		for i := range 40 {
			dpp[i] = gsmMultR(bp, e.dp0[base+i-int(nc)])
			ebuf[5+i] = gsmSub(d[i], dpp[i])
		}
		p.xmaxc[k], p.mc[k] = rpeEncoding(&ebuf, p.xmc[13*k:13*k+13])
		// 4.2.18 update of the reconstructed short term residual
		for i := range 40 {
			e.dp0[base+i] = gsmAdd(ebuf[5+i], dpp[i])
		}
	}
	copy(e.dp0[:120], e.dp0[160:])
}

// preprocess is 4.2.1-4.2.3: downscaling, offset compensation, preemphasis.
func (e *GSMEncoder) preprocess(in []int16, so *[160]int16) {
	z1, lz2, mp := e.z1, e.lz2, e.mp
	for k, s := range in {
		sof := (s >> 3) << 2
		s1 := sof - z1 // cannot overflow: both are 14-bit
		z1 = sof
		ls2 := int32(s1) << 15
		msp := int16(lz2 >> 15)
		lsp := int16(lz2 - int32(msp)<<15)
		ls2 += int32(gsmMultR(lsp, 32735))
		lz2 = gsmLAdd(int32(msp)*32735, ls2)
		ltemp := gsmLAdd(lz2, 16384)
		msp = gsmMultR(mp, -28180)
		mp = int16(ltemp >> 15)
		so[k] = gsmAdd(mp, msp)
	}
	e.z1, e.lz2, e.mp = z1, lz2, mp
}

// lpcAnalysis is 4.2.4-4.2.7.
func lpcAnalysis(s *[160]int16, larc *[8]int16) {
	var acf [9]int32
	autocorrelation(s, &acf)
	reflectionCoefficients(&acf, larc)
	toLogAreaRatios(larc)
	quantizeLAR(larc)
}

func autocorrelation(s *[160]int16, acf *[9]int32) {
	var smax int16
	for _, v := range s {
		if a := gsmAbs(v); a > smax {
			smax = a
		}
	}
	scalauto := 0
	if smax != 0 {
		scalauto = 4 - gsmNorm(int32(smax)<<16)
	}
	if scalauto > 0 {
		f := int16(16384 >> (scalauto - 1))
		for k := range s {
			s[k] = gsmMultR(s[k], f)
		}
	}
	for i := range s {
		for k := 0; k <= 8 && k <= i; k++ {
			acf[k] += int32(s[i]) * int32(s[i-k])
		}
	}
	for k := range acf {
		acf[k] <<= 1
	}
	if scalauto > 0 {
		for k := range s {
			s[k] <<= scalauto
		}
	}
}

// reflectionCoefficients is 4.2.5, the Schur recursion.
func reflectionCoefficients(lacf *[9]int32, r *[8]int16) {
	if lacf[0] == 0 {
		*r = [8]int16{}
		return
	}
	temp := gsmNorm(lacf[0])
	var acf, p, k [9]int16
	for i := range acf {
		acf[i] = int16((int64(lacf[i]) << temp) >> 16)
	}
	copy(k[1:8], acf[1:8])
	p = acf
	for n := 1; n <= 8; n++ {
		t := gsmAbs(p[1])
		if p[0] < t {
			for i := n; i <= 8; i++ {
				r[i-1] = 0
			}
			return
		}
		rn := gsmDiv(t, p[0])
		if p[1] > 0 {
			rn = -rn
		}
		r[n-1] = rn
		if n == 8 {
			return
		}
		p[0] = gsmAdd(p[0], gsmMultR(p[1], rn))
		for m := 1; m <= 8-n; m++ {
			p[m] = gsmAdd(p[m+1], gsmMultR(k[m], rn))
			k[m] = gsmAdd(k[m], gsmMultR(p[m+1], rn))
		}
	}
}

// toLogAreaRatios is 4.2.6 (piecewise linear approximation).
func toLogAreaRatios(r *[8]int16) {
	for i, v := range r {
		t := gsmAbs(v)
		switch {
		case t < 22118:
			t >>= 1
		case t < 31130:
			t -= 11059
		default:
			t = (t - 26112) << 2
		}
		if v < 0 {
			t = -t
		}
		r[i] = t
	}
}

// quantizeLAR is 4.2.7.
func quantizeLAR(lar *[8]int16) {
	for i := range lar {
		t := gsmMult(gsmLarA[i], lar[i])
		t = gsmAdd(t, gsmLarB[i])
		t = gsmAdd(t, 256)
		t >>= 9
		switch {
		case t > gsmLarMAC[i]:
			lar[i] = gsmLarMAC[i] - gsmLarMIC[i]
		case t < gsmLarMIC[i]:
			lar[i] = 0
		default:
			lar[i] = t - gsmLarMIC[i]
		}
	}
}

// decodeLAR is 4.2.8.
func decodeLAR(larc, larpp *[8]int16) {
	for i := range larc {
		t := gsmAdd(larc[i], gsmLarMIC[i]) << 10
		t = gsmSub(t, gsmLarB[i]<<1)
		t = gsmMultR(gsmINVA[i], t)
		larpp[i] = gsmAdd(t, t)
	}
}

// interpolateLAR is 4.2.9.1 for the four parts of a frame (samples 0-12,
// 13-26, 27-39, 40-159) followed by 4.2.9.2, LARp to rp.
func interpolateLAR(part int, prev, cur, rp *[8]int16) {
	for i := range rp {
		var v int16
		switch part {
		case 0:
			v = gsmAdd(gsmAdd(prev[i]>>2, cur[i]>>2), prev[i]>>1)
		case 1:
			v = gsmAdd(prev[i]>>1, cur[i]>>1)
		case 2:
			v = gsmAdd(gsmAdd(prev[i]>>2, cur[i]>>2), cur[i]>>1)
		default:
			v = cur[i]
		}
		t := gsmAbs(v)
		switch {
		case t < 11059:
			t <<= 1
		case t < 20070:
			t += 11059
		default:
			t = gsmAdd(t>>2, 26112)
		}
		if v < 0 {
			t = -t
		}
		rp[i] = t
	}
}

// gsmParts are the [start, end) sample ranges of the LAR interpolation.
var gsmParts = [4][2]int{{0, 13}, {13, 27}, {27, 40}, {40, 160}}

// shortTermAnalysis is 4.2.8-4.2.10; it turns s into the residual d.
func (e *GSMEncoder) shortTermAnalysis(larc *[8]int16, s *[160]int16) {
	cur := &e.larpp[e.j]
	e.j ^= 1
	prev := &e.larpp[e.j]
	decodeLAR(larc, cur)
	var rp [8]int16
	for part, r := range gsmParts {
		interpolateLAR(part, prev, cur, &rp)
		for k := r[0]; k < r[1]; k++ {
			di, sav := s[k], s[k]
			for i := range 8 {
				ui := e.u[i]
				e.u[i] = sav
				sav = gsmAdd(ui, gsmMultR(rp[i], di))
				di = gsmAdd(di, gsmMultR(rp[i], ui))
			}
			s[k] = di
		}
	}
}

// ltpParameters is 4.2.11: lag Nc and coded gain bc for sub-segment d,
// searching the reconstructed residual dp0 before index base.
func ltpParameters(d []int16, dp0 *[280]int16, base int) (nc, bc int16) {
	var dmax int16
	for _, v := range d {
		if a := gsmAbs(v); a > dmax {
			dmax = a
		}
	}
	temp := 0
	if dmax != 0 {
		temp = gsmNorm(int32(dmax) << 16)
	}
	scal := 0
	if temp <= 6 {
		scal = 6 - temp
	}
	var wt [40]int32
	for k, v := range d {
		wt[k] = int32(v >> scal)
	}
	var lmax int32
	nc = 40
	for lambda := 40; lambda <= 120; lambda++ {
		dp := dp0[base-lambda : base-lambda+40]
		var l int32
		for k := range 40 {
			l += wt[k] * int32(dp[k])
		}
		if l > lmax {
			nc = int16(lambda)
			lmax = l
		}
	}
	lmax <<= 1
	lmax >>= 6 - scal

	var lpower int32
	for k := range 40 {
		t := int32(dp0[base+k-int(nc)] >> 3)
		lpower += t * t
	}
	lpower <<= 1

	if lmax <= 0 {
		return nc, 0
	}
	if lmax >= lpower {
		return nc, 3
	}
	n := gsmNorm(lpower)
	r := int16((lmax << n) >> 16)
	s := int16((lpower << n) >> 16)
	for bc = 0; bc <= 2; bc++ {
		if r <= gsmMult(s, gsmDLB[bc]) {
			break
		}
	}
	return nc, bc
}

// rpeEncoding is 4.2.13-4.2.17. ebuf holds e[-5..44] (e at index 5); on
// return e[0..39] is replaced by the reconstructed long term residual ep.
func rpeEncoding(ebuf *[50]int16, xmc []int16) (xmaxc, mc int16) {
	// 4.2.13 weighting filter (table 4.4, H scaled by 8192)
	h := [11]int32{-134, -374, 0, 2054, 5741, 8192, 5741, 2054, 0, -374, -134}
	var x [40]int16
	for k := range x {
		l := int32(4096)
		for i, c := range h {
			l += int32(ebuf[k+i]) * c
		}
		x[k] = sat16to16(l >> 13)
	}

	// 4.2.14 grid selection
	var em int32
	for m := range 4 {
		var l int32
		for i := range 13 {
			t := int32(x[m+3*i] >> 2)
			l += t * t
		}
		l <<= 1
		if m == 0 || l > em {
			mc, em = int16(m), l
		}
	}
	var xm [13]int16
	for i := range xm {
		xm[i] = x[int(mc)+3*i]
	}

	// 4.2.15 APCM quantisation
	var xmax int16
	for _, v := range xm {
		if a := gsmAbs(v); a > xmax {
			xmax = a
		}
	}
	exp := int16(0)
	temp := xmax >> 9
	itest := false
	for range 6 {
		itest = itest || temp <= 0
		temp >>= 1
		if !itest {
			exp++
		}
	}
	xmaxc = gsmAdd(xmax>>(exp+5), exp<<3)
	exp, mant := xmaxcToExpMant(xmaxc)
	t1 := 6 - exp
	t2 := gsmNRFAC[mant]
	for i, v := range xm {
		t := int16(int32(v) << t1)
		t = gsmMult(t, t2)
		xmc[i] = t>>12 + 4 // make xMc non-negative
	}

	// 4.2.16-4.2.17 inverse quantisation and grid positioning
	var xmp [13]int16
	apcmInverse(xmc, mant, exp, &xmp)
	ep := ebuf[5:45]
	clear(ep)
	for i, v := range xmp {
		ep[int(mc)+3*i] = v
	}
	return xmaxc, mc
}

// xmaxcToExpMant splits the coded block maximum (4.2.15).
func xmaxcToExpMant(xmaxc int16) (exp, mant int16) {
	if xmaxc > 15 {
		exp = xmaxc>>3 - 1
	}
	mant = xmaxc - exp<<3
	if mant == 0 {
		return -4, 7
	}
	for mant <= 7 {
		mant = mant<<1 | 1
		exp--
	}
	return exp, mant - 8
}

// apcmInverse is 4.2.16.
func apcmInverse(xmc []int16, mant, exp int16, xmp *[13]int16) {
	t1 := gsmFAC[mant]
	t2 := gsmSub(6, exp)
	t3 := gsmAsl(1, int(gsmSub(t2, 1)))
	for i := range xmp {
		t := (xmc[i]<<1 - 7) << 12
		t = gsmMultR(t1, t)
		t = gsmAdd(t, t3)
		xmp[i] = gsmAsr(t, int(t2))
	}
}

// GSMDecoder decodes GSM 06.10 frames to 8 kHz slin.
type GSMDecoder struct {
	dp0   [280]int16 // reconstructed residual drp, 120 past samples first
	v     [9]int16   // short term synthesis filter memory
	larpp [2][8]int16
	j     int
	nrp   int16 // last valid lag
	msr   int16 // deemphasis state
}

// NewGSMDecoder returns a decoder in the reset state.
func NewGSMDecoder() *GSMDecoder { return &GSMDecoder{nrp: 40} }

// Decode decodes payload, a multiple of 33 bytes, into dst[:0].
func (d *GSMDecoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	if len(payload)%gsmFrameBytes != 0 {
		return dst[:0], fmt.Errorf("codec: gsm decode %d bytes: %w", len(payload), ErrGSMFrame)
	}
	n := len(payload) / gsmFrameBytes
	dst = grow(dst, n*gsmFrameSamples)
	var p gsmParams
	for f := range n {
		if !p.unpack(payload[f*gsmFrameBytes:]) {
			return dst[:0], fmt.Errorf("codec: gsm decode frame %d: no 0xD signature: %w", f, ErrGSMFrame)
		}
		d.decodeFrame(&p, dst[f*gsmFrameSamples:(f+1)*gsmFrameSamples])
	}
	return dst, nil
}

// decodeFrame is section 4.3.
func (d *GSMDecoder) decodeFrame(p *gsmParams, out []int16) {
	var wt [160]int16
	for j := range 4 {
		// 4.2.16-4.2.17 RPE decoding
		exp, mant := xmaxcToExpMant(p.xmaxc[j])
		var xmp [13]int16
		apcmInverse(p.xmc[13*j:13*j+13], mant, exp, &xmp)
		var erp [40]int16
		for i, v := range xmp {
			erp[int(p.mc[j])+3*i] = v
		}
		// 4.3.2 long term synthesis filtering
		nr := p.nc[j]
		if nr < 40 || nr > 120 {
			nr = d.nrp
		}
		d.nrp = nr
		brp := gsmQLB[p.bc[j]]
		for k := range 40 {
			drpp := gsmMultR(brp, d.dp0[120+k-int(nr)])
			d.dp0[120+k] = gsmAdd(erp[k], drpp)
		}
		copy(wt[40*j:], d.dp0[120:160])
		copy(d.dp0[:120], d.dp0[40:160])
	}

	// 4.3.3 short term synthesis filtering
	cur := &d.larpp[d.j]
	d.j ^= 1
	prev := &d.larpp[d.j]
	decodeLAR(&p.larc, cur)
	var rrp [8]int16
	for part, r := range gsmParts {
		interpolateLAR(part, prev, cur, &rrp)
		for k := r[0]; k < r[1]; k++ {
			sri := wt[k]
			for i := 7; i >= 0; i-- {
				sri = gsmSub(sri, gsmMultRSat(rrp[i], d.v[i]))
				d.v[i+1] = gsmAdd(d.v[i], gsmMultRSat(rrp[i], sri))
			}
			d.v[0] = sri
			out[k] = sri
		}
	}

	// 4.3.4-4.3.6 deemphasis, upscaling, truncation
	msr := d.msr
	for k, s := range out {
		msr = gsmAdd(s, gsmMultR(msr, 28180))
		out[k] = int16(uint16(gsmAdd(msr, msr)) & 0xfff8)
	}
	d.msr = msr
}

// gsmMultRSat is mult_r with the standard's -32768 * -32768 = 32767 rule,
// used where libgsm checks for it (the synthesis filter).
func gsmMultRSat(a, b int16) int16 {
	if a == -32768 && b == -32768 {
		return 32767
	}
	return gsmMultR(a, b)
}

var (
	_ Encoder = (*GSMEncoder)(nil)
	_ Decoder = (*GSMDecoder)(nil)
)
