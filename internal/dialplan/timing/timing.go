// Package timing parses and checks Asterisk's time specifications, the
// "times,weekdays,mdays,months[,timezone]" of timed includes
// (include => daytime,9:00-17:00,mon-fri,*,*), GotoIfTime and IFTIME, as
// main/pbx_timing.c does.
//
// Each field is "*" (always) or a list of items separated by '&'; an item
// is a value or a range "a-b". Ranges wrap around: "fri-mon" is Friday to
// Monday, "22:00-06:00" spans midnight. Times are hh:mm with minute
// resolution and the end minute included (9:00-17:00 matches 17:00:59).
// Weekdays are sun..sat and months jan..dec (any case); they may also be
// given as numbers counted from 1 (weekday 1 is Sunday), as Asterisk
// allows. Days of the month are 1-31.
package timing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Spec is a parsed time specification.
type Spec struct {
	mins     [48]uint32 // 30 bits per half hour, one per minute
	weekdays uint32     // bit 0 = Sunday
	mdays    uint32     // bit 0 = day 1
	months   uint32     // bit 0 = January
	// TZ is the time zone name given as fifth field, "" for local time.
	TZ  string
	loc *time.Location
	src string
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// Parse reads spec. Fields are separated by ',' or '|'; missing trailing
// fields mean "*". Like Asterisk, invalid items are skipped rather than
// rejecting the whole spec: Parse returns a usable Spec together with an
// error listing what it skipped (nil when everything was understood).
func Parse(spec string) (*Spec, error) {
	s := &Spec{src: spec, weekdays: 0x7f, mdays: 0x7fffffff, months: 0xfff}
	var errs []error
	if strings.TrimSpace(spec) == "" {
		s.allTimes()
		return s, nil
	}
	fields := splitFields(spec)
	errs = append(errs, s.parseTimes(fields[0])...)
	if len(fields) > 1 {
		m, e := parseRange(fields[1], 7, dayNames, "day of week")
		s.weekdays = m
		errs = append(errs, e...)
	}
	if len(fields) > 2 {
		m, e := parseRange(fields[2], 31, nil, "day of month")
		s.mdays = m
		errs = append(errs, e...)
	}
	if len(fields) > 3 {
		m, e := parseRange(fields[3], 12, monthNames, "month")
		s.months = m
		errs = append(errs, e...)
	}
	// As ast_build_timing: a time zone only with exactly five
	// comma-separated fields, and it is everything after the last comma.
	if strings.Count(spec, ",") == 4 {
		s.TZ = strings.TrimSpace(spec[strings.LastIndexByte(spec, ',')+1:])
		if s.TZ != "" {
			loc, err := time.LoadLocation(s.TZ)
			if err != nil {
				errs = append(errs, fmt.Errorf("timing: unknown time zone %q, using local time", s.TZ))
			} else {
				s.loc = loc
			}
		}
	}
	return s, errors.Join(errs...)
}

// splitFields splits on ',' and '|' keeping empty fields, as strsep does.
func splitFields(s string) []string {
	var out []string
	for {
		i := strings.IndexAny(s, ",|")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// String returns the spec as written.
func (s *Spec) String() string { return s.src }

func (s *Spec) allTimes() {
	for i := range s.mins {
		s.mins[i] = 0x3fffffff
	}
}

func (s *Spec) setMinute(m int) {
	s.mins[m/30] |= 1 << (m % 30)
}

// parseTimes is get_timerange.
func (s *Spec) parseTimes(times string) []error {
	times = strings.TrimSpace(times)
	if times == "" || times == "*" {
		s.allTimes()
		return nil
	}
	var errs []error
	for _, part := range strings.Split(times, "&") {
		start, end, isRange := strings.Cut(part, "-")
		if !isRange {
			h, m, ok := parseHM(start)
			if !ok {
				errs = append(errs, fmt.Errorf("timing: %q is not a valid time", part))
				continue
			}
			s.setMinute(h*60 + m)
			continue
		}
		end = strings.TrimLeftFunc(end, func(r rune) bool { return r < '0' || r > '9' })
		if end == "" {
			errs = append(errs, fmt.Errorf("timing: invalid time range starting with %q", start+"-"))
			continue
		}
		sh, sm, ok := parseHM(start)
		if !ok {
			errs = append(errs, fmt.Errorf("timing: %q is not a valid start time", start))
			continue
		}
		eh, em, ok := parseHM(end)
		if !ok {
			errs = append(errs, fmt.Errorf("timing: %q is not a valid end time", end))
			continue
		}
		from, to := sh*60+sm, eh*60+em
		x := from
		for ; x != to; x = (x + 1) % (24 * 60) {
			s.setMinute(x)
		}
		s.setMinute(x)
	}
	return errs
}

// parseHM reads "%2d:%2d" with 0<=h<=23 and 0<=m<=59.
func parseHM(s string) (h, m int, ok bool) {
	s = strings.TrimSpace(s)
	hs, ms, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	h, ok1 := leadingInt(hs, 2)
	m, ok2 := leadingInt(ms, 2)
	if !ok1 || !ok2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// leadingInt is sscanf("%Nd"): optional blanks and sign, then up to width
// characters of which at least one digit.
func leadingInt(s string, width int) (int, bool) {
	s = strings.TrimLeft(s, " \t")
	neg := false
	used := 0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
		used++
	}
	n, digits := 0, 0
	for digits < len(s) && used < width && s[digits] >= '0' && s[digits] <= '9' {
		n = n*10 + int(s[digits]-'0')
		digits++
		used++
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseRange is get_range: a bit mask of max bits.
func parseRange(src string, max int, names []string, what string) (uint32, []error) {
	src = strings.TrimSpace(src)
	if src == "" || src == "*" {
		return 1<<max - 1, nil
	}
	var mask uint32
	var errs []error
	for _, part := range strings.Split(src, "&") {
		first, last, isRange := strings.Cut(part, "-")
		start := lookupName(strings.TrimSpace(first), names, max)
		if start < 0 {
			errs = append(errs, fmt.Errorf("timing: invalid %s %q, skipping it", what, first))
			continue
		}
		end := start
		if isRange {
			end = lookupName(strings.TrimSpace(last), names, max)
			if end < 0 {
				errs = append(errs, fmt.Errorf("timing: invalid end %s %q, skipping it", what, last))
				continue
			}
		}
		mask |= 1 << end
		for start != end {
			mask |= 1 << start
			start++
			if start >= max {
				start = 0
			}
		}
	}
	return mask, errs
}

// lookupName is lookup_name: a name (case-insensitive) or a number from 1.
func lookupName(s string, names []string, max int) int {
	if names != nil && s != "" && s[0] > '9' {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				return i
			}
		}
	}
	if n, ok := leadingInt(s, 2); ok && n >= 1 && n <= max {
		return n - 1
	}
	return -1
}

// Match reports whether t falls inside the spec, in the spec's time zone
// (or t's own location when none was given).
func (s *Spec) Match(t time.Time) bool {
	if s.loc != nil {
		t = t.In(s.loc)
	}
	if s.months&(1<<(int(t.Month())-1)) == 0 {
		return false
	}
	if s.mdays&(1<<(t.Day()-1)) == 0 {
		return false
	}
	if s.weekdays&(1<<int(t.Weekday())) == 0 {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	return s.mins[m/30]&(1<<(m%30)) != 0
}
