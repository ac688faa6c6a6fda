package sound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAVE format tags (mmreg.h) that we read.
const (
	wavePCM        = 0x0001
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

// wavSizeUnknown is the data (and RIFF) size a Writer puts in the header
// until Close patches it; readers treat it as "up to end of file".
const wavSizeUnknown = 0xFFFFFFFF

// wavHeaderLen is the size of the canonical header a Writer produces.
const wavHeaderLen = 44

// errNoWAV marks input that is not RIFF WAVE at all.
var errNoWAV = errors.New("not a RIFF WAVE file")

// wavInfo is what a reader needs from a WAV header.
type wavInfo struct {
	tag      uint16
	channels int
	rate     int
	bits     int
	// dataLen is the data chunk length in bytes, or -1 when the header does
	// not know it (a recording that was never closed).
	dataLen int64
}

// readWAVHeader consumes r up to the first byte of sample data. It skips
// chunks it does not need (LIST, fact, cue …) and tolerates a data size
// that runs past the end of the file, as streaming writers and crashed
// recorders leave.
func readWAVHeader(r io.Reader) (wavInfo, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return wavInfo{}, fmt.Errorf("%w: %w", errNoWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return wavInfo{}, errNoWAV
	}
	var (
		info    wavInfo
		haveFmt bool
		ch      [8]byte
	)
	for {
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return wavInfo{}, fmt.Errorf("no data chunk: %w", err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return wavInfo{}, fmt.Errorf("fmt chunk of %d bytes", size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return wavInfo{}, fmt.Errorf("fmt chunk: %w", err)
			}
			info.tag = binary.LittleEndian.Uint16(b[0:2])
			info.channels = int(binary.LittleEndian.Uint16(b[2:4]))
			info.rate = int(binary.LittleEndian.Uint32(b[4:8]))
			info.bits = int(binary.LittleEndian.Uint16(b[14:16]))
			// WAVE_FORMAT_EXTENSIBLE keeps the real tag in the first two
			// bytes of the SubFormat GUID (sox uses it for >2 channels).
			if info.tag == waveExtensible && size >= 40 {
				info.tag = binary.LittleEndian.Uint16(b[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return wavInfo{}, errors.New("data chunk before fmt chunk")
			}
			info.dataLen = size
			if size == wavSizeUnknown || size == 0 {
				// 0 is what some streaming writers leave; trust the file.
				info.dataLen = -1
			}
			return info, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return wavInfo{}, fmt.Errorf("chunk %q: %w", id, err)
			}
		}
	}
}

// check rejects WAV content a Reader cannot decode, saying what it found.
func (w wavInfo) check() error {
	if w.channels < 1 || w.channels > 8 {
		return fmt.Errorf("%d channels not supported", w.channels)
	}
	if w.rate < 1000 || w.rate > 192000 {
		return fmt.Errorf("sample rate %d Hz not supported", w.rate)
	}
	switch w.tag {
	case wavePCM:
		if w.bits != 16 && w.bits != 8 {
			return fmt.Errorf("PCM with %d bits per sample not supported (want 16 or 8)", w.bits)
		}
	case waveMuLaw, waveALaw:
		if w.bits != 8 {
			return fmt.Errorf("G.711 with %d bits per sample", w.bits)
		}
	default:
		return fmt.Errorf("WAV format tag 0x%04x (%s) not supported; convert to PCM 16-bit, µ-law or A-law, e.g. sox in.wav -r 8000 -c 1 -b 16 out.wav", w.tag, wavTagName(w.tag))
	}
	return nil
}

func wavTagName(tag uint16) string {
	switch tag {
	case 0x0002:
		return "MS ADPCM"
	case 0x0003:
		return "IEEE float"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10, Asterisk wav49"
	case 0x0055:
		return "MP3"
	case 0x0064, 0x028F:
		return "G.722/G.726"
	}
	return "unknown"
}

// appendWAVHeader appends a canonical 44-byte header for 16-bit PCM mono
// at rate with dataLen bytes of samples.
func appendWAVHeader(b []byte, rate int, dataLen uint32) []byte {
	riff := uint32(wavSizeUnknown)
	if dataLen != wavSizeUnknown {
		riff = 36 + dataLen
	}
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, riff)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, wavePCM)
	b = le.AppendUint16(b, 1) // channels
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*2)) // byte rate
	b = le.AppendUint16(b, 2)              // block align
	b = le.AppendUint16(b, 16)             // bits
	b = append(b, "data"...)
	return le.AppendUint32(b, dataLen)
}
