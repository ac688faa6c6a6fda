package sound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/codec"
)

// Writer records 8 kHz slin to a file, for Record and voicemail. The format
// follows the file extension: .wav (16-bit PCM, 8 kHz, mono), .sln/.raw,
// .ulaw/.ul/.pcm, .alaw/.al or .gsm. A Writer is not safe for concurrent use.
//
// A .wav header is written first with "unknown" sizes (0xFFFFFFFF) and
// patched by Close. If the process dies mid-recording the file still plays:
// readers, ours and sox included, then take the data to run to end of file.
type Writer struct {
	path   string
	f      *os.File
	format format
	enc    codec.Encoder // kindCodec only
	hdr    int64         // header bytes before the samples

	frameSamples int     // samples encoded as a unit (1, or 160 for GSM)
	frameBytes   int     // bytes one unit encodes to
	written      int64   // samples in the file
	pend         []int16 // samples waiting for a whole unit
	buf          []byte
	closed       bool
}

// ErrClosed is returned by Writer methods after Close.
var ErrClosed = errors.New("sound: writer closed")

// Create creates or truncates the file at path and returns a Writer in the
// format its extension names.
func Create(path string) (*Writer, error) {
	ext := filepath.Ext(path)
	f, ok := formatByExt(ext)
	if !ok || f.kind == kindSilent || f.rate != SampleRate && f.kind != kindWAV {
		return nil, fmt.Errorf("sound: create %s: cannot record format %q (want .wav, .sln, .ulaw, .alaw or .gsm)", path, ext)
	}
	w := &Writer{path: path, format: f, frameSamples: 1}
	switch f.kind {
	case kindWAV, kindSlin:
		w.frameBytes = 2
	case kindUlaw, kindAlaw:
		w.frameBytes = 1
	case kindCodec:
		c, ok := codec.Lookup(f.codec)
		if !ok {
			return nil, fmt.Errorf("sound: create %s: codec %s not available", path, f.codec)
		}
		enc, err := c.NewEncoder()
		if err != nil {
			return nil, fmt.Errorf("sound: create %s: %w", path, err)
		}
		w.enc, w.frameSamples, w.frameBytes = enc, c.FrameSamples(), f.block
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("sound: %w", err)
	}
	w.f = file
	if f.kind == kindWAV {
		h := appendWAVHeader(nil, SampleRate, wavSizeUnknown)
		if _, err := file.Write(h); err != nil {
			file.Close()
			return nil, fmt.Errorf("sound: write %s: %w", path, err)
		}
		w.hdr = int64(len(h))
	}
	return w, nil
}

// Write appends samples (normally one 20 ms frame, but any length works).
func (w *Writer) Write(frame []int16) error {
	if w.closed {
		return ErrClosed
	}
	w.pend = append(w.pend, frame...)
	n := len(w.pend) / w.frameSamples * w.frameSamples
	if n == 0 {
		return nil
	}
	if err := w.encode(w.pend[:n]); err != nil {
		return err
	}
	w.pend = w.pend[:copy(w.pend, w.pend[n:])]
	return nil
}

func (w *Writer) encode(pcm []int16) error {
	b := w.buf[:0]
	switch w.format.kind {
	case kindWAV, kindSlin:
		for _, s := range pcm {
			b = binary.LittleEndian.AppendUint16(b, uint16(s))
		}
	case kindUlaw:
		for _, s := range pcm {
			b = append(b, codec.LinearToUlaw(s))
		}
	case kindAlaw:
		for _, s := range pcm {
			b = append(b, codec.LinearToAlaw(s))
		}
	case kindCodec:
		var err error
		if b, err = w.enc.Encode(b, pcm); err != nil {
			return fmt.Errorf("sound: encode %s: %w", w.path, err)
		}
	}
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("sound: write %s: %w", w.path, err)
	}
	w.written += int64(len(pcm))
	return nil
}

// Duration is how much audio has been written (and not truncated).
func (w *Writer) Duration() time.Duration {
	return samplesToDuration(w.written + int64(len(w.pend)))
}

// Truncate drops the last d of the recording, as Record does to cut off the
// silence or the # press that ended it. For GSM the cut is rounded to a
// whole 20 ms frame, dropping slightly more.
func (w *Writer) Truncate(d time.Duration) error {
	if w.closed {
		return ErrClosed
	}
	if d <= 0 {
		return nil
	}
	total := w.written + int64(len(w.pend))
	keep := max(0, total-int64(d*SampleRate/time.Second))
	if keep >= w.written {
		w.pend = w.pend[:keep-w.written]
		return nil
	}
	units := keep / int64(w.frameSamples)
	size := w.hdr + units*int64(w.frameBytes)
	if err := w.f.Truncate(size); err != nil {
		return fmt.Errorf("sound: truncate %s: %w", w.path, err)
	}
	if _, err := w.f.Seek(size, io.SeekStart); err != nil {
		return fmt.Errorf("sound: truncate %s: %w", w.path, err)
	}
	w.written, w.pend = units*int64(w.frameSamples), w.pend[:0]
	return nil
}

// Close flushes buffered samples (a partial GSM frame is padded with
// silence), fixes the WAV header, and closes the file. Calling it again
// returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if len(w.pend) > 0 {
		for len(w.pend)%w.frameSamples != 0 {
			w.pend = append(w.pend, 0)
		}
		err = w.encode(w.pend)
		w.pend = w.pend[:0]
	}
	if err == nil && w.format.kind == kindWAV {
		h := appendWAVHeader(nil, SampleRate, uint32(w.written*2))
		if _, werr := w.f.WriteAt(h, 0); werr != nil {
			err = fmt.Errorf("sound: write header %s: %w", w.path, werr)
		}
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("sound: close %s: %w", w.path, cerr)
	}
	return err
}

func samplesToDuration(n int64) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}
