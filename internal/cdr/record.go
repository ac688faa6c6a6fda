package cdr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record is one call detail record, with Asterisk's fields in the order
// cdr_csv writes them to Master.csv.
type Record struct {
	AccountCode string // the originating channel's account code
	Src         string // caller ID number
	Dst         string // destination extension
	DContext    string // destination context
	CLID        string // caller ID, `"Name" <number>`
	Channel     string // the originating channel
	DstChannel  string // the channel it was connected to, or the last one dialled
	LastApp     string // last application run (Dial)
	LastData    string // its arguments (PJSIP/1001,30)
	Start       time.Time
	Answer      time.Time // zero when never answered
	End         time.Time
	// Duration is End-Start and BillSec End-Answer, in whole seconds as
	// Asterisk counts them (see Seconds).
	Duration    int64
	BillSec     int64
	Disposition Disposition
	AMAFlags    string // DOCUMENTATION, BILLING or OMIT
	UniqueID    string
	UserField   string

	// The columns cdr_csv adds with newcdrcolumns=yes.
	PeerAccount string // the account code of DstChannel
	LinkedID    string // the unique ID of the call's first channel
	Sequence    int64  // a per-process record number
}

// Disposition is a record's outcome, as Asterisk's enum ast_cdr_disposition.
type Disposition int

// The dispositions. Their order is Asterisk's: the ones before Answered
// count as unanswered for cdr.conf's unanswered= option.
const (
	NoAnswer Disposition = iota
	Failed
	Busy
	Answered
	Congestion // only with cdr.conf congestion=yes; FAILED otherwise
	Cancel     // only with canceldispositionenabled=yes; NO ANSWER otherwise
)

var dispositionNames = [...]string{"NO ANSWER", "FAILED", "BUSY", "ANSWERED", "CONGESTION", "CANCEL"}

// String returns the text Asterisk logs: "ANSWERED", "NO ANSWER"...
func (d Disposition) String() string {
	if d >= 0 && int(d) < len(dispositionNames) {
		return dispositionNames[d]
	}
	return "UNKNOWN"
}

// ParseDisposition reads what String writes.
func ParseDisposition(s string) (Disposition, error) {
	for i, n := range dispositionNames {
		if s == n {
			return Disposition(i), nil
		}
	}
	return 0, fmt.Errorf("cdr: unknown disposition %q", s)
}

// AMADocumentation is the AMA flag of every record unless the channel sets
// CDR_AMAFLAGS, as Asterisk's default amaflags.
const AMADocumentation = "DOCUMENTATION"

// Seconds computes Duration and BillSec from the record's times, as
// Asterisk's cdr.c: both are whole seconds rounded down, except that with
// initiated (cdr.conf initiatedseconds=yes) a started second of billing
// counts once its first half is over. BillSec is 0 without Answer.
func Seconds(start, answer, end time.Time, initiated bool) (duration, billsec int64) {
	duration = end.Sub(start).Milliseconds() / 1000
	if answer.IsZero() {
		return duration, 0
	}
	ms := end.Sub(answer).Milliseconds()
	billsec = ms / 1000
	if initiated && ms%1000 >= 500 {
		billsec++
	}
	return duration, billsec
}

// CLID formats a caller ID as Asterisk's CDR clid field: ast_callerid_merge
// always gives `"name" <number>`, empty parts included, with '"', '\' and
// control characters in the name escaped by a backslash.
func CLID(name, num string) string {
	var b strings.Builder
	b.Grow(len(name) + len(num) + 5) // one allocation when nothing needs escaping
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '"' || c == '\\' || (c < 0x20 && c != '\t' && c != '\v') || c == 0x7f {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteString(`" <`)
	b.WriteString(num)
	b.WriteByte('>')
	return b.String()
}

// CSVFormat says which columns AppendCSV writes and in which time zone.
type CSVFormat struct {
	UseGMTime     bool // times in UTC instead of local time
	LogUniqueID   bool // the uniqueid column
	LogUserField  bool // the userfield column
	NewCDRColumns bool // peeraccount, linkedid and sequence
}

// TimeFormat is how Master.csv writes times (cdr_csv's "%Y-%m-%d %T").
const TimeFormat = "2006-01-02 15:04:05"

// AppendCSV appends r as one Master.csv line, newline included, exactly as
// cdr_csv's build_csv_record: text fields are double-quoted with '"'
// doubled, duration and billsec are bare integers, and an unset time (an
// unanswered call's answer) is an empty, unquoted field.
func AppendCSV(dst []byte, r *Record, f CSVFormat) []byte {
	loc := time.Local
	if f.UseGMTime {
		loc = time.UTC
	}
	str := func(s string) {
		dst = append(dst, '"')
		for {
			i := strings.IndexByte(s, '"')
			if i < 0 {
				break
			}
			dst = append(dst, s[:i+1]...)
			dst = append(dst, '"')
			s = s[i+1:]
		}
		dst = append(dst, s...)
		dst = append(dst, '"', ',')
	}
	date := func(t time.Time) {
		if t.IsZero() {
			dst = append(dst, ',')
			return
		}
		dst = append(dst, '"')
		dst = appendTime(dst, t.In(loc))
		dst = append(dst, '"', ',')
	}
	num := func(n int64) {
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, ',')
	}
	str(r.AccountCode)
	str(r.Src)
	str(r.Dst)
	str(r.DContext)
	str(r.CLID)
	str(r.Channel)
	str(r.DstChannel)
	str(r.LastApp)
	str(r.LastData)
	date(r.Start)
	date(r.Answer)
	date(r.End)
	num(r.Duration)
	num(r.BillSec)
	str(r.Disposition.String())
	str(r.AMAFlags)
	if f.LogUniqueID {
		str(r.UniqueID)
	}
	if f.LogUserField {
		str(r.UserField)
	}
	if f.NewCDRColumns {
		str(r.PeerAccount)
		str(r.LinkedID)
		num(r.Sequence)
	}
	dst[len(dst)-1] = '\n' // the last field's comma
	return dst
}

// appendTime appends t.AppendFormat(dst, TimeFormat) without interpreting
// the layout, which was two thirds of AppendCSV's time.
func appendTime(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeFormat)
	}
	hour, minute, sec := t.Clock()
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-',
		byte('0'+day/10), byte('0'+day%10), ' ',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
}
