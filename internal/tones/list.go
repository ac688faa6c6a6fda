package tones

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Part is one element of a tone list.
type Part struct {
	Freq1, Freq2 int           // Hz; 0 is silence (and no second tone)
	Modulate     bool          // Freq1 amplitude-modulated by Freq2, not mixed
	Duration     time.Duration // 0: until stopped
	Once         bool          // "!": not part of the repeated section
}

// List is a parsed tone list. The zero List is empty and plays nothing.
type List struct {
	Parts []Part
}

// ErrSyntax is wrapped by every Parse error.
var ErrSyntax = errors.New("bad tone list")

// midiToHz is Asterisk's main/indications.c midi_tohz table: MIDI note
// numbers rounded down to whole Hz, as Asterisk plays them.
var midiToHz = [128]int{
	8, 8, 9, 9, 10, 10, 11, 12, 12, 13,
	14, 15, 16, 17, 18, 19, 20, 21, 23, 24,
	25, 27, 29, 30, 32, 34, 36, 38, 41, 43,
	46, 48, 51, 55, 58, 61, 65, 69, 73, 77,
	82, 87, 92, 97, 103, 110, 116, 123, 130, 138,
	146, 155, 164, 174, 184, 195, 207, 220, 233, 246,
	261, 277, 293, 311, 329, 349, 369, 391, 415, 440,
	466, 493, 523, 554, 587, 622, 659, 698, 739, 783,
	830, 880, 932, 987, 1046, 1108, 1174, 1244, 1318, 1396,
	1479, 1567, 1661, 1760, 1864, 1975, 2093, 2217, 2349, 2489,
	2637, 2793, 2959, 3135, 3322, 3520, 3729, 3951, 4186, 4434,
	4698, 4978, 5274, 5587, 5919, 6271, 6644, 7040, 7458, 7902,
	8372, 8869, 9397, 9956, 10548, 11175, 11839, 12543,
}

// Parse parses a tone list such as "480+620/500,0/500" or
// "!950/330,!1400/330,!1800/330,0".
func Parse(s string) (List, error) {
	sep := ","
	if strings.Contains(s, "|") { // Asterisk's pre-1.6 separator, still accepted
		sep = "|"
	}
	raw := strings.Split(s, sep)
	// Asterisk stops at the first empty part; allow that only at the end
	// ("440,") rather than silently dropping whatever follows.
	for len(raw) > 0 && strings.TrimSpace(raw[len(raw)-1]) == "" {
		raw = raw[:len(raw)-1]
	}
	if len(raw) == 0 {
		return List{}, fmt.Errorf("tones: %w: no tone parts in %q", ErrSyntax, s)
	}
	l := List{Parts: make([]Part, 0, len(raw))}
	for i, r := range raw {
		p, err := parsePart(strings.TrimSpace(r))
		if err != nil {
			return List{}, fmt.Errorf("tones: %w: part %d %q: %w", ErrSyntax, i+1, strings.TrimSpace(r), err)
		}
		l.Parts = append(l.Parts, p)
	}
	return l, nil
}

// MustParse is Parse for lists known to be valid; it panics on error.
func MustParse(s string) List {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}

func parsePart(s string) (Part, error) {
	var p Part
	if s == "" {
		return p, errors.New("empty part")
	}
	if s[0] == '!' {
		p.Once = true
		s = s[1:]
	}
	body, dur, hasDur := strings.Cut(s, "/")
	if hasDur {
		ms, err := number(dur)
		if err != nil {
			return p, fmt.Errorf("duration: %w", err)
		}
		p.Duration = time.Duration(ms) * time.Millisecond
	}
	f1, f2, op := body, "", byte(0)
	if i := strings.IndexAny(body, "+*"); i >= 0 {
		f1, f2, op = body[:i], body[i+1:], body[i]
	}
	// Asterisk requires both frequencies in the same notation: M60+M64 or
	// 350+440, never 350+M64.
	midi := strings.HasPrefix(f1, "M")
	var err error
	if p.Freq1, err = freq(f1, midi); err != nil {
		return p, err
	}
	if op != 0 {
		if p.Freq2, err = freq(f2, midi); err != nil {
			return p, err
		}
		p.Modulate = op == '*'
	}
	return p, nil
}

func freq(s string, midi bool) (int, error) {
	if midi {
		if !strings.HasPrefix(s, "M") {
			return 0, fmt.Errorf("frequency %q: both tones must be MIDI notes (M...)", s)
		}
		n, err := number(s[1:])
		if err != nil {
			return 0, fmt.Errorf("MIDI note: %w", err)
		}
		if n > 127 {
			return 0, fmt.Errorf("MIDI note %d out of range 0-127", n)
		}
		return midiToHz[n], nil
	}
	n, err := number(s)
	if err != nil {
		return 0, fmt.Errorf("frequency: %w", err)
	}
	return n, nil
}

// number parses the unsigned decimal Asterisk reads with %u.
func number(s string) (int, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return int(n), nil
}

// RepeatFrom returns the index of the first part not marked "!", where
// playback restarts after the last part, or -1 if the list plays once.
func (l List) RepeatFrom() int {
	for i, p := range l.Parts {
		if !p.Once {
			return i
		}
	}
	return -1
}

// String returns the list in indications.conf syntax, with MIDI notes
// written as Hz.
func (l List) String() string {
	var b strings.Builder
	for i, p := range l.Parts {
		if i > 0 {
			b.WriteByte(',')
		}
		if p.Once {
			b.WriteByte('!')
		}
		b.WriteString(strconv.Itoa(p.Freq1))
		if p.Freq2 != 0 || p.Modulate {
			if p.Modulate {
				b.WriteByte('*')
			} else {
				b.WriteByte('+')
			}
			b.WriteString(strconv.Itoa(p.Freq2))
		}
		if p.Duration > 0 {
			b.WriteByte('/')
			b.WriteString(strconv.FormatInt(p.Duration.Milliseconds(), 10))
		}
	}
	return b.String()
}
