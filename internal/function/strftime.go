package function

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Strftime formats t with C strftime conversions in the C locale, plus
// Asterisk's %1q..%6q (fractions of a second with that many digits) and %q
// (milliseconds). Unknown conversions are copied as they are.
func Strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		c = format[i]
		if c >= '1' && c <= '6' && i+1 < len(format) && format[i+1] == 'q' {
			digits := int(c - '0')
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			b.WriteString(frac[:digits])
			i++
			continue
		}
		b.WriteString(conv(c, t))
	}
	return b.String()
}

var (
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func conv(c byte, t time.Time) string {
	two := func(n int) string { return fmt.Sprintf("%02d", n) }
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'a':
		return shortDays[t.Weekday()]
	case 'A':
		return t.Weekday().String()
	case 'b', 'h':
		return shortMonths[t.Month()-1]
	case 'B':
		return t.Month().String()
	case 'c':
		return conv('a', t) + " " + conv('b', t) + " " + conv('e', t) + " " + conv('T', t) + " " + conv('Y', t)
	case 'C':
		return two(t.Year() / 100)
	case 'd':
		return two(t.Day())
	case 'D':
		return conv('m', t) + "/" + conv('d', t) + "/" + conv('y', t)
	case 'e':
		return fmt.Sprintf("%2d", t.Day())
	case 'F':
		return conv('Y', t) + "-" + conv('m', t) + "-" + conv('d', t)
	case 'g':
		y, _ := t.ISOWeek()
		return two(y % 100)
	case 'G':
		y, _ := t.ISOWeek()
		return strconv.Itoa(y)
	case 'H':
		return two(t.Hour())
	case 'I':
		return two(hour12)
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay())
	case 'k':
		return fmt.Sprintf("%2d", t.Hour())
	case 'l':
		return fmt.Sprintf("%2d", hour12)
	case 'm':
		return two(int(t.Month()))
	case 'M':
		return two(t.Minute())
	case 'n':
		return "\n"
	case 'p':
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	case 'P':
		if t.Hour() < 12 {
			return "am"
		}
		return "pm"
	case 'q':
		return fmt.Sprintf("%03d", t.Nanosecond()/1e6)
	case 'r':
		return conv('I', t) + ":" + conv('M', t) + ":" + conv('S', t) + " " + conv('p', t)
	case 'R':
		return conv('H', t) + ":" + conv('M', t)
	case 's':
		return strconv.FormatInt(t.Unix(), 10)
	case 'S':
		return two(t.Second())
	case 't':
		return "\t"
	case 'T':
		return conv('H', t) + ":" + conv('M', t) + ":" + conv('S', t)
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return strconv.Itoa(wd)
	case 'V':
		_, w := t.ISOWeek()
		return two(w)
	case 'w':
		return strconv.Itoa(int(t.Weekday()))
	case 'U':
		return two((t.YearDay() + 6 - int(t.Weekday())) / 7)
	case 'W':
		wd := (int(t.Weekday()) + 6) % 7
		return two((t.YearDay() + 6 - wd) / 7)
	case 'x':
		return conv('D', t)
	case 'X':
		return conv('T', t)
	case 'y':
		return two(t.Year() % 100)
	case 'Y':
		return strconv.Itoa(t.Year())
	case 'z':
		return t.Format("-0700")
	case 'Z':
		name, _ := t.Zone()
		return name
	case '%':
		return "%"
	}
	return "%" + string(c)
}
