package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flash is the digit for RFC 4733 event 16, hook flash.
const Flash byte = '!'

// PayloadSize is the size of one RFC 4733 event payload.
const PayloadSize = 4

var (
	// ErrShortPayload is returned for a payload under PayloadSize bytes.
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrUnknownEvent is returned for event codes other than 0-16 (RFC 4734
	// tones such as fax CNG), which a DTMF receiver ignores.
	ErrUnknownEvent = errors.New("dtmf: not a DTMF event")
	// ErrDigit is returned for a byte that is not a DTMF digit.
	ErrDigit = errors.New("dtmf: not a DTMF digit")
)

// Event is an RFC 4733 §2.3 telephone-event payload.
type Event struct {
	Digit    byte   // '0'-'9', '*', '#', 'A'-'D' or Flash
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // in RTP timestamp units since the event began
}

// digits maps RFC 4733 event codes 0-16 to digits.
const digits = "0123456789*#ABCD!"

// Code returns the RFC 4733 event code of digit.
func Code(digit byte) (uint8, error) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', nil
	case digit == '*':
		return 10, nil
	case digit == '#':
		return 11, nil
	case digit >= 'A' && digit <= 'D':
		return digit - 'A' + 12, nil
	case digit >= 'a' && digit <= 'd':
		return digit - 'a' + 12, nil
	case digit == Flash:
		return 16, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrDigit, digit)
}

// Digit returns the digit of RFC 4733 event code.
func Digit(code uint8) (byte, error) {
	if int(code) >= len(digits) {
		return 0, fmt.Errorf("%w: event %d", ErrUnknownEvent, code)
	}
	return digits[code], nil
}

// Valid reports whether digit is a DTMF digit (including Flash).
func Valid(digit byte) bool {
	_, err := Code(digit)
	return err == nil
}

// normalize returns digit in canonical (upper) case.
func normalize(digit byte) byte {
	if digit >= 'a' && digit <= 'd' {
		return digit - 'a' + 'A'
	}
	return digit
}

// Marshal returns the 4-byte payload of e.
func (e Event) Marshal() ([]byte, error) {
	return e.AppendMarshal(make([]byte, 0, PayloadSize))
}

// AppendMarshal appends the payload of e to b.
func (e Event) AppendMarshal(b []byte) ([]byte, error) {
	code, err := Code(e.Digit)
	if err != nil {
		return b, err
	}
	if e.Volume > 63 {
		return b, fmt.Errorf("dtmf: volume %d out of range 0-63", e.Volume)
	}
	flags := e.Volume
	if e.End {
		flags |= 0x80
	}
	b = append(b, code, flags)
	return binary.BigEndian.AppendUint16(b, e.Duration), nil
}

// Unmarshal decodes the first event of an RFC 4733 payload. The R bit is
// ignored, as the RFC asks. Event codes above 16 give ErrUnknownEvent.
func (e *Event) Unmarshal(b []byte) error {
	if len(b) < PayloadSize {
		return ErrShortPayload
	}
	d, err := Digit(b[0])
	if err != nil {
		return err
	}
	*e = Event{
		Digit:    d,
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}
	return nil
}
