package dtmf

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// ErrInfo is wrapped by every ParseInfo error; a UAS answers such an INFO
// with a 4xx/5xx (Asterisk sends 500).
var ErrInfo = errors.New("dtmf: bad SIP INFO")

// ParseInfo reads the digit of a SIP INFO request from its Content-Type and
// body, as res_pjsip_dtmf_info does:
//
//	application/dtmf-relay   "Signal=5\r\nDuration=160\r\n" (ms; 100 if absent)
//	application/dtmf         "5"
//	application/hook-flash   (any body) Flash
//
// Signal is a digit, '*', '#', 'A'-'D', '!' (flash) or an event number
// 0-16. Duration is 0 for application/dtmf and hook-flash.
func ParseInfo(contentType string, body []byte) (digit byte, dur time.Duration, err error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: content type %q: %w", ErrInfo, contentType, err)
	}
	switch mt {
	case "application/hook-flash":
		return Flash, 0, nil
	case "application/dtmf":
		digit, err = signal(strings.TrimSpace(string(body)))
		if err != nil {
			return 0, 0, err
		}
		return digit, 0, nil
	case "application/dtmf-relay":
	default:
		return 0, 0, fmt.Errorf("%w: content type %q is not DTMF", ErrInfo, mt)
	}
	dur = DefaultDuration
	for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "signal":
			if digit, err = signal(val); err != nil {
				return 0, 0, err
			}
		case "duration":
			// Asterisk keeps the default for an unreadable duration; so do we.
			if ms, err := strconv.ParseUint(val, 10, 31); err == nil {
				dur = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if digit == 0 {
		return 0, 0, fmt.Errorf("%w: no Signal in dtmf-relay body", ErrInfo)
	}
	return digit, dur, nil
}

// signal reads a Signal value: a digit character or an event number.
func signal(s string) (byte, error) {
	if len(s) == 1 && Valid(s[0]) {
		return normalize(s[0]), nil
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		if d, err := Digit(uint8(n)); err == nil {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%w: signal %q", ErrInfo, s)
}

// FormatInfoRelay returns an application/dtmf-relay body for digit lasting
// dur (DefaultDuration if <= 0), as chan_pjsip writes it.
func FormatInfoRelay(digit byte, dur time.Duration) []byte {
	if dur <= 0 {
		dur = DefaultDuration
	}
	b := make([]byte, 0, 32)
	b = append(b, "Signal="...)
	b = append(b, normalize(digit))
	b = append(b, "\r\nDuration="...)
	b = strconv.AppendInt(b, dur.Milliseconds(), 10)
	return append(b, "\r\n"...)
}
