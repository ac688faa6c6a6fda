package test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// cdrRecord is one row of Master.csv in Asterisk's cdr_csv column order:
// accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
// lastdata, start, answer, end, duration, billsec, disposition, amaflags,
// then uniqueid and userfield when cdr.conf logs them (the default).
type cdrRecord struct {
	AccountCode, Src, Dst, DContext, CLID  string
	Channel, DstChannel, LastApp, LastData string
	Start, Answer, End                     string // "2006-01-02 15:04:05"; Answer "" when never answered
	Duration, BillSec                      int
	Disposition, AMAFlags                  string
	UniqueID, UserField                    string
	Line                                   int // 1-based row number in the file
}

func (r cdrRecord) String() string {
	return fmt.Sprintf("row %d: src=%q dst=%q dcontext=%q clid=%q channel=%q dstchannel=%q lastapp=%q lastdata=%q start=%q answer=%q end=%q duration=%d billsec=%d disposition=%q amaflags=%q uniqueid=%q",
		r.Line, r.Src, r.Dst, r.DContext, r.CLID, r.Channel, r.DstChannel, r.LastApp, r.LastData,
		r.Start, r.Answer, r.End, r.Duration, r.BillSec, r.Disposition, r.AMAFlags, r.UniqueID)
}

// cdrTimeFormat is how cdr_csv writes times (local time).
const cdrTimeFormat = "2006-01-02 15:04:05"

// cdrMasterPath is where gopbx writes Master.csv: DATADIR/cdr-csv.
func cdrMasterPath(pbx *harness.PBX) string {
	return filepath.Join(pbx.DataDir(), "cdr-csv", "Master.csv")
}

// parseCDRs reads Master.csv content. Every row must have at least the 16
// columns cdr_csv always writes, and integer duration and billsec.
func parseCDRs(data string) ([]cdrRecord, error) {
	r := csv.NewReader(strings.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("Master.csv is not valid CSV: %w", err)
	}
	var out []cdrRecord
	for i, f := range rows {
		if len(f) < 16 {
			return nil, fmt.Errorf("Master.csv row %d has %d columns, want at least 16: %q", i+1, len(f), f)
		}
		rec := cdrRecord{
			AccountCode: f[0], Src: f[1], Dst: f[2], DContext: f[3], CLID: f[4],
			Channel: f[5], DstChannel: f[6], LastApp: f[7], LastData: f[8],
			Start: f[9], Answer: f[10], End: f[11],
			Disposition: f[14], AMAFlags: f[15], Line: i + 1,
		}
		if rec.Duration, err = strconv.Atoi(f[12]); err != nil {
			return nil, fmt.Errorf("Master.csv row %d: duration %q is not an integer", i+1, f[12])
		}
		if rec.BillSec, err = strconv.Atoi(f[13]); err != nil {
			return nil, fmt.Errorf("Master.csv row %d: billsec %q is not an integer", i+1, f[13])
		}
		if len(f) > 16 {
			rec.UniqueID = f[16]
		}
		if len(f) > 17 {
			rec.UserField = f[17]
		}
		out = append(out, rec)
	}
	return out, nil
}

// readCDRs returns the rows of gopbx's Master.csv; a missing file is no
// rows.
func readCDRs(t *testing.T, pbx *harness.PBX) []cdrRecord {
	t.Helper()
	b, err := os.ReadFile(cdrMasterPath(pbx))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	recs, err := parseCDRs(string(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return recs
}

// waitCDR polls Master.csv until a row matches and returns it; CDRs are
// written when the call's channels are gone, a moment after the last SIP
// message.
func waitCDR(t *testing.T, pbx *harness.PBX, timeout time.Duration, what string, match func(cdrRecord) bool) cdrRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := readCDRs(t, pbx)
		for _, r := range recs {
			if match(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			var sb strings.Builder
			for _, r := range recs {
				sb.WriteString(r.String() + "\n")
			}
			t.Fatalf("CDR: no row for %s in %s within %v; rows:\n%s", what, cdrMasterPath(pbx), timeout, sb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cdrWant is what a test expects of a CDR row; empty fields are not
// checked. Channel and DstChannel name the endpoints: the row must hold
// "PJSIP/<name>-<8 hex digits>".
type cdrWant struct {
	Src, Dst, DContext, CLID string
	Channel, DstChannel      string
	LastApp, LastData        string
	Disposition              string
	MinBillSec, MaxDuration  int // MaxDuration 0: not checked
	// Window bounds start and end: the row must fall inside it (a second
	// of slack either side for cdr_csv's whole seconds).
	From, To time.Time
}

var cdrChannelSuffix = `-[0-9a-f]{8}$`

// checkCDR compares a row with want and checks that its times are
// consistent: start <= answer <= end, an answer time exactly when
// ANSWERED, billsec <= duration.
func checkCDR(t *testing.T, r cdrRecord, want cdrWant) {
	t.Helper()
	t.Logf("CDR %s", r)
	eq := func(field, got, want string) {
		t.Helper()
		if want != "" && got != want {
			t.Errorf("CDR %s = %q, want %q (%s)", field, got, want, r)
		}
	}
	eq("src", r.Src, want.Src)
	eq("dst", r.Dst, want.Dst)
	eq("dcontext", r.DContext, want.DContext)
	eq("clid", r.CLID, want.CLID)
	eq("lastapp", r.LastApp, want.LastApp)
	eq("lastdata", r.LastData, want.LastData)
	eq("disposition", r.Disposition, want.Disposition)
	chanRE := func(field, got, name string) {
		t.Helper()
		if name == "" {
			return
		}
		if !regexp.MustCompile(`^PJSIP/` + regexp.QuoteMeta(name) + cdrChannelSuffix).MatchString(got) {
			t.Errorf("CDR %s = %q, want PJSIP/%s-XXXXXXXX (%s)", field, got, name, r)
		}
	}
	chanRE("channel", r.Channel, want.Channel)
	chanRE("dstchannel", r.DstChannel, want.DstChannel)

	parse := func(field, s string) time.Time {
		t.Helper()
		ts, err := time.ParseInLocation(cdrTimeFormat, s, time.Local)
		if err != nil {
			t.Errorf("CDR %s %q is not %q (%s)", field, s, cdrTimeFormat, r)
		}
		return ts
	}
	start, end := parse("start", r.Start), parse("end", r.End)
	if end.Before(start) {
		t.Errorf("CDR end %s before start %s", r.End, r.Start)
	}
	if !want.From.IsZero() && start.Before(want.From.Truncate(time.Second).Add(-time.Second)) {
		t.Errorf("CDR start %s is before the call was placed (%s)", r.Start, want.From.Format(cdrTimeFormat))
	}
	if !want.To.IsZero() && end.After(want.To.Add(time.Second)) {
		t.Errorf("CDR end %s is after the test saw the call end (%s)", r.End, want.To.Format(cdrTimeFormat))
	}
	if r.Disposition == "ANSWERED" {
		answer := parse("answer", r.Answer)
		if answer.Before(start) || end.Before(answer) {
			t.Errorf("CDR answer %s not within start %s .. end %s", r.Answer, r.Start, r.End)
		}
	} else if r.Answer != "" || r.BillSec != 0 {
		t.Errorf("CDR of an unanswered call (%s) has answer %q, billsec %d; want none, 0", r.Disposition, r.Answer, r.BillSec)
	}
	if r.BillSec > r.Duration || r.Duration < 0 {
		t.Errorf("CDR billsec %d, duration %d: want 0 <= billsec <= duration", r.BillSec, r.Duration)
	}
	if r.BillSec < want.MinBillSec {
		t.Errorf("CDR billsec %d, want at least %d (%s)", r.BillSec, want.MinBillSec, r)
	}
	if want.MaxDuration > 0 && r.Duration > want.MaxDuration {
		t.Errorf("CDR duration %d, want at most %d (%s)", r.Duration, want.MaxDuration, r)
	}
}

// TestCDRParse checks the Master.csv reader on rows in cdr_csv's format.
func TestCDRParse(t *testing.T) {
	t.Parallel()
	data := `"","1000","100","calls","""Alice"" <1000>","PJSIP/1000-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001,10","2024-05-01 10:00:00","2024-05-01 10:00:02","2024-05-01 10:00:07",7,5,"ANSWERED","DOCUMENTATION","1714557600.1",""
"","1000","101","calls","1000","PJSIP/1000-00000003","PJSIP/busy-00000004","Dial","PJSIP/busy,10","2024-05-01 10:01:00",,"2024-05-01 10:01:01",1,0,"BUSY","DOCUMENTATION","1714557660.3",""
`
	recs, err := parseCDRs(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d rows, want 2", len(recs))
	}
	if recs[0].CLID != `"Alice" <1000>` || recs[0].BillSec != 5 || recs[0].UniqueID != "1714557600.1" {
		t.Errorf("row 1: %s", recs[0])
	}
	if recs[1].Answer != "" || recs[1].Disposition != "BUSY" {
		t.Errorf("row 2: %s", recs[1])
	}
	checkCDR(t, recs[0], cdrWant{Src: "1000", Dst: "100", DContext: "calls", Channel: "1000", DstChannel: "1001",
		LastApp: "Dial", LastData: "PJSIP/1001,10", Disposition: "ANSWERED", MinBillSec: 5})
	checkCDR(t, recs[1], cdrWant{Channel: "1000", DstChannel: "busy", Disposition: "BUSY"})
	if _, err := parseCDRs(`"a","b"` + "\n"); err == nil {
		t.Error("a short row was accepted")
	}
}
