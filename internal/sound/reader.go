package sound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gopbx/gopbx/internal/codec"
)

// Reader yields a sound as 20 ms frames of slin at 8 kHz. A Reader is not
// safe for concurrent use.
type Reader struct {
	name   string
	src    source
	closer io.Closer
	dur    time.Duration // 0 when unknown
	pend   []int16       // decoded samples not yet returned
	off    int           // pend[:off] is already returned
	eof    bool          // src is exhausted
	err    error         // sticky error from src
}

// source produces 8 kHz mono slin in chunks of any size, appending to dst.
// It returns io.EOF (possibly with samples) at the end.
type source interface {
	read(dst []int16) ([]int16, error)
}

// Read returns the next frame of exactly FrameSamples samples, written into
// dst[:0] (reusing its capacity). The last frame of a sound is padded with
// silence. After the last frame Read returns (dst[:0], io.EOF); any other
// error means the file is damaged or unreadable.
func (r *Reader) Read(dst []int16) ([]int16, error) {
	for len(r.pend)-r.off < FrameSamples && !r.eof && r.err == nil {
		r.fill()
	}
	dst = dst[:0]
	avail := len(r.pend) - r.off
	if avail == 0 {
		if r.err != nil {
			return dst, r.err
		}
		return dst, io.EOF
	}
	n := min(avail, FrameSamples)
	dst = append(dst, r.pend[r.off:r.off+n]...)
	r.off += n
	for len(dst) < FrameSamples {
		dst = append(dst, 0)
	}
	return dst, nil
}

func (r *Reader) fill() {
	if r.off > 0 { // keep pend from growing: slide the unread tail down
		n := copy(r.pend, r.pend[r.off:])
		r.pend, r.off = r.pend[:n], 0
	}
	var err error
	r.pend, err = r.src.read(r.pend)
	switch {
	case errors.Is(err, io.EOF):
		r.eof = true
	case err != nil:
		r.err = fmt.Errorf("sound: read %s: %w", r.name, err)
	}
}

// Duration is the length of the sound, and whether it is known: it is not
// for a WAV recording that was never closed read from a non-seekable
// stream.
func (r *Reader) Duration() (time.Duration, bool) { return r.dur, r.dur > 0 }

// Name is the file the Reader reads, as found by a Finder.
func (r *Reader) Name() string { return r.name }

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	c := r.closer
	r.closer = nil
	r.eof = true
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("sound: close %s: %w", r.name, err)
	}
	return nil
}

// Silence returns a Reader of d of silence (rounded up to a whole frame).
// Finder.Open uses it for Asterisk's silence/N files.
func Silence(d time.Duration) *Reader {
	n := int(d * SampleRate / time.Second)
	return &Reader{name: fmt.Sprintf("silence(%v)", d), src: &silence{left: n}, dur: d}
}

type silence struct{ left int }

func (s *silence) read(dst []int16) ([]int16, error) {
	n := min(s.left, 4*FrameSamples)
	s.left -= n
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	clear(dst[l:])
	if s.left == 0 {
		return dst, io.EOF
	}
	return dst, nil
}

// OpenReader reads a sound of the given format ("wav", "sln", "ulaw", "gsm"
// …, or an extension such as ".sln16") from r. name is used in errors.
// When r is an io.Seeker the Reader learns the size and so the duration;
// when it is an io.Closer, Reader.Close closes it.
func OpenReader(name string, r io.Reader, format string) (*Reader, error) {
	f, err := parseFormat(format)
	if err != nil {
		return nil, fmt.Errorf("sound: %s: %w", name, err)
	}
	return openReader(name, r, f)
}

func openReader(name string, r io.Reader, f format) (*Reader, error) {
	rd := &Reader{name: name}
	if c, ok := r.(io.Closer); ok {
		rd.closer = c
	}
	size := int64(-1) // bytes from here to end of file
	if s, ok := r.(io.Seeker); ok {
		size = remaining(s)
	}
	var (
		fs  *fileSource
		err error
	)
	switch f.kind {
	case kindWAV:
		fs, size, err = wavSource(r, size)
	default:
		fs = &fileSource{r: r, format: f, channels: 1, rate: f.rate}
		err = fs.init()
	}
	if err != nil {
		rd.Close()
		return nil, fmt.Errorf("sound: %s: %w", name, err)
	}
	rd.src = fs
	if size > 0 {
		rd.dur = fs.duration(size)
	}
	return rd, nil
}

// remaining reports how many bytes lie between the current offset of s and
// its end, or -1, leaving the offset where it was.
func remaining(s io.Seeker) int64 {
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	end, err := s.Seek(0, io.SeekEnd)
	if _, err2 := s.Seek(cur, io.SeekStart); err != nil || err2 != nil {
		return -1
	}
	return end - cur
}

func wavSource(r io.Reader, size int64) (*fileSource, int64, error) {
	cr := &countReader{r: r}
	w, err := readWAVHeader(cr)
	if err != nil {
		return nil, 0, err
	}
	if err := w.check(); err != nil {
		return nil, 0, err
	}
	if size >= 0 {
		size -= cr.n
	}
	if w.dataLen >= 0 && (size < 0 || w.dataLen < size) {
		// Stop at the end of the data chunk: chunks may follow it.
		size = w.dataLen
		r = io.LimitReader(r, size)
	}
	fs := &fileSource{r: r, channels: w.channels, rate: w.rate}
	switch {
	case w.tag == waveMuLaw:
		fs.format = fmtUlaw
	case w.tag == waveALaw:
		fs.format = fmtAlaw
	case w.bits == 8:
		fs.format = format{name: "pcm8", kind: kindSlin}
		fs.pcm8 = true
	default:
		fs.format = fmtSln
	}
	return fs, size, fs.init()
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fileSource decodes bytes of one format to 8 kHz mono slin.
type fileSource struct {
	r        io.Reader
	format   format
	channels int
	rate     int
	pcm8     bool // unsigned 8-bit PCM (WAV only)

	blockBytes   int // bytes that decode as a unit (all channels)
	blockSamples int // samples per channel in a block
	dec          codec.Decoder
	rs           codec.Resampler // nil at 8 kHz
	rsBuf        []int16
	raw          []byte
	pcm          []int16 // interleaved, at rate
	mono         []int16
}

func (s *fileSource) init() error {
	switch s.format.kind {
	case kindSlin:
		s.blockBytes, s.blockSamples = 2*s.channels, 1
		if s.pcm8 {
			s.blockBytes = s.channels
		}
	case kindUlaw, kindAlaw:
		s.blockBytes, s.blockSamples = s.channels, 1
	case kindCodec:
		c, ok := codec.Lookup(s.format.codec)
		if !ok {
			return fmt.Errorf("codec %s not available", s.format.codec)
		}
		d, err := c.NewDecoder()
		if err != nil {
			return fmt.Errorf("codec %s: %w", s.format.codec, err)
		}
		s.dec = d
		s.rate = c.SampleRate()
		s.blockBytes, s.blockSamples = s.format.block, c.FrameSamples()
	default:
		return fmt.Errorf("format %s cannot be read", s.format.name)
	}
	if s.rate != SampleRate {
		rs, err := codec.NewResampler(s.rate, SampleRate)
		if err != nil {
			return fmt.Errorf("%d Hz audio: %w", s.rate, err)
		}
		s.rs = rs
	}
	// Read about 80 ms at a time: few syscalls, little memory.
	blocks := max(1, s.rate/12/s.blockSamples)
	s.raw = make([]byte, blocks*s.blockBytes)
	return nil
}

// duration converts a byte count of this format to time.
func (s *fileSource) duration(size int64) time.Duration {
	samples := size / int64(s.blockBytes) * int64(s.blockSamples)
	return time.Duration(samples) * time.Second / time.Duration(s.rate)
}

func (s *fileSource) read(dst []int16) ([]int16, error) {
	n, err := io.ReadFull(s.r, s.raw)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	n -= n % s.blockBytes // a torn last block is dropped, not decoded as noise
	if n == 0 {
		return dst, err
	}
	b := s.raw[:n]
	pcm := s.pcm[:0]
	switch s.format.kind {
	case kindSlin:
		if s.pcm8 {
			for _, v := range b {
				pcm = append(pcm, (int16(v)-128)<<8)
			}
		} else {
			for i := 0; i < len(b); i += 2 {
				pcm = append(pcm, int16(binary.LittleEndian.Uint16(b[i:])))
			}
		}
	case kindUlaw:
		for _, v := range b {
			pcm = append(pcm, codec.UlawToLinear(v))
		}
	case kindAlaw:
		for _, v := range b {
			pcm = append(pcm, codec.AlawToLinear(v))
		}
	case kindCodec:
		var derr error
		pcm, derr = s.dec.Decode(pcm, b)
		if derr != nil {
			return dst, derr
		}
	}
	s.pcm = pcm
	if s.channels > 1 {
		pcm = downmix(s.mono[:0], pcm, s.channels)
		s.mono = pcm
	}
	if s.rs != nil {
		return append(dst, s.resample(pcm)...), err
	}
	return append(dst, pcm...), err
}

func (s *fileSource) resample(pcm []int16) []int16 {
	s.rsBuf = s.rs.Resample(s.rsBuf, pcm)
	return s.rsBuf
}

// downmix averages interleaved channels into one.
func downmix(dst, pcm []int16, channels int) []int16 {
	for i := 0; i+channels <= len(pcm); i += channels {
		var sum int
		for c := range channels {
			sum += int(pcm[i+c])
		}
		dst = append(dst, int16(sum/channels))
	}
	return dst
}
