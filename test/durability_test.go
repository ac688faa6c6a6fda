package test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"

	_ "modernc.org/sqlite" // read gopbx.db after the crash
)

// Durability (issue #8 §3): gopbx is killed with SIGKILL while 200 phones
// register and calls come and go. What it acknowledged must be in the
// database it leaves behind and in the restarted process:
//
//   - every binding whose 200 OK reached the phone: the registrar answers
//     only after the group commit has written the binding to the WAL
//     (storage/sqlite), which survives the process dying;
//   - the CDR of every call that had ended (the caller had the 200 to its
//     BYE) at least cdrCrashWindow before the kill, in Master.csv and in
//     the cdr table: records are written after the BYE is answered, so the
//     calls of the last moment may be lost (docs/operations.md);
//   - a database that passes PRAGMA integrity_check;
//   - bindings loaded at restart still expire on time.
//
// Addresses 127.0.0.141-144: gopbx, the registering phones, the caller
// (a trunk identified by address) and the callee (a SIPp UAS).
func TestDurability(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	var (
		pbxIP    = harness.IP(t, "127.0.0.141")
		phonesIP = harness.IP(t, "127.0.0.142")
		callerIP = harness.IP(t, "127.0.0.143")
		calleeIP = harness.IP(t, "127.0.0.144")
	)
	const (
		nUsers       = 200
		nShort       = 20               // the first users register for shortExpiry
		shortExpiry  = 15 * time.Second // outlives the kill, the restart and the checks after it
		longExpiry   = 300 * time.Second
		regRate      = 50  // REGISTER/s: 200 users take 4 s
		callRate     = 40  // calls/s
		nCalls       = 280 // 7 s of calls
		callHold     = 300 * time.Millisecond
		killAfterReg = 2 * time.Second // into the registrations: about half acknowledged
	)
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: pbxIP, Files: map[string]string{
		"pjsip.conf":      durabilityPJSIP(pbxIP, callerIP, calleeIP, nUsers),
		"extensions.conf": "[dur]\nexten => 100,1,Dial(PJSIP/callee,10)\n same => n,Hangup()\n",
		"gopbx.conf":      "[security]\ninvite_rate = 0\n",
	}, Args: loadLogLevel})
	dbPath := filepath.Join(pbx.DataDir(), "gopbx.db")

	// The callee runs until the test's cleanup kills it: the calls the
	// crash cut off never get their BYE.
	harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_uas", LocalIP: calleeIP, LocalPort: 5060,
		Calls: 100000, Limit: 10000, Timeout: 60 * time.Second})
	waitUDPListening(t, calleeIP, 5060, 5*time.Second)

	start := time.Now()
	callLog, callArgs := sippEventLog(t, "calls")
	calls := harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_uac", Remote: pbx.Addr(), LocalIP: callerIP,
		Service: "100", Calls: nCalls, Rate: callRate, Limit: 1000, Timeout: 25 * time.Second,
		ExtraArgs: append([]string{"-d", fmt.Sprint(callHold.Milliseconds())}, callArgs...)})
	time.Sleep(time.Second)

	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	expiry := map[string]time.Duration{}
	for i := range nUsers {
		u, e := durUser(i), longExpiry
		if i < nShort {
			e = shortExpiry
		}
		expiry[u] = e
		fmt.Fprintf(&csv, "%s;%s;%d\n", u, durPassword(u), int(e/time.Second))
	}
	phonesPort := harness.FreePort(t, phonesIP)
	phonesAddr := harness.HostPort(phonesIP, phonesPort)
	regLog, regArgs := sippEventLog(t, "registrations")
	regs := harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_register", Remote: pbx.Addr(),
		LocalIP: phonesIP, LocalPort: phonesPort, Users: csv.String(), Calls: nUsers, Rate: regRate,
		Limit: 1000, Timeout: 25 * time.Second, ExtraArgs: regArgs})
	time.Sleep(killAfterReg)

	killedAt := time.Now()
	pbx.Kill(t)
	crashed := readDurableState(t, dbPath)
	crashedCSV := map[string]bool{}
	for _, r := range readCDRs(t, pbx) {
		crashedCSV[r.Src] = true
	}
	pbx.Restart(t) // same config and data directory
	restartedAt := time.Now()
	t.Logf("killed %v after the first call, restarted (ready) in %v; the crashed database holds %d bindings and %d CDRs, Master.csv %d",
		killedAt.Sub(start).Round(time.Millisecond), restartedAt.Sub(killedAt).Round(time.Millisecond),
		len(crashed.bindings), len(crashed.cdrSrcs), len(crashedCSV))

	// Acknowledged bindings: in the crashed file, and served after restart.
	rr := regs.Wait()
	regEvents := readSIPpEvents(t, regLog)
	var ackedBefore, ackedAfter []string
	for _, ev := range regEvents {
		if ev.What != "registered" {
			continue
		}
		if ev.At.Before(killedAt) {
			ackedBefore = append(ackedBefore, ev.Key)
		} else {
			ackedAfter = append(ackedAfter, ev.Key)
		}
	}
	t.Logf("REGISTER: %d acknowledged before the kill, %d after (SIPp: %d successful, %d failed across the crash)",
		len(ackedBefore), len(ackedAfter), rr.Successful, rr.Failed)
	if len(ackedBefore) == 0 || len(ackedBefore) == nUsers {
		t.Errorf("the kill did not fall inside the registrations (%d of %d acknowledged before it): the test proves nothing", len(ackedBefore), nUsers)
	}
	for _, u := range ackedBefore {
		if !crashed.bindings[u+"|"+phonesAddr] {
			t.Errorf("binding of %s was acknowledged before the kill but is not in the crashed database", u)
		}
	}
	out := contacts(t, pbx)
	for _, u := range append(ackedBefore, ackedAfter...) {
		if !hasContact(out, u, u, phonesAddr) {
			t.Errorf("binding of %s was acknowledged but the restarted gopbx does not list it", u)
		}
	}

	// CDRs of the calls that had ended before the kill.
	cr := calls.Wait()
	callEvents := readSIPpEvents(t, callLog)
	var ended, lost, lostLate []string
	var newestLost time.Duration
	newestKept := time.Hour
	for _, ev := range callEvents {
		if ev.What != "completed" || !ev.At.Before(killedAt) {
			continue
		}
		ended = append(ended, ev.Key)
		src := "c" + ev.Key
		age := killedAt.Sub(ev.At)
		if crashedCSV[src] && crashed.cdrSrcs[src] {
			newestKept = min(newestKept, age)
			continue
		}
		where := fmt.Sprintf("call %s (ended %v before the kill): in Master.csv %v, in the cdr table %v",
			ev.Key, age.Round(time.Millisecond), crashedCSV[src], crashed.cdrSrcs[src])
		if age < cdrCrashWindow {
			lostLate = append(lostLate, where)
			newestLost = max(newestLost, age)
		} else {
			lost = append(lost, where)
		}
	}
	t.Logf("calls: %d ended before the kill, the last %v before it kept its CDR; CDRs lost in the last %v: %d, newest %v %q (SIPp: %d successful, %d failed across the crash)",
		len(ended), newestKept.Round(time.Microsecond), cdrCrashWindow, len(lostLate), newestLost.Round(time.Microsecond), lostLate, cr.Successful, cr.Failed)
	if len(ended) == 0 {
		t.Errorf("no call had ended before the kill: the test proves nothing")
	}
	for _, l := range lost {
		t.Errorf("CDR lost: %s", l)
	}
	// Calls handled by the restarted process get their records too.
	var after []string
	for _, ev := range callEvents {
		if ev.What == "completed" && ev.At.After(restartedAt) {
			after = append(after, "c"+ev.Key)
		}
	}
	if len(after) == 0 {
		t.Errorf("no call completed after the restart")
	} else {
		waitCDR(t, pbx, 5*time.Second, fmt.Sprintf("the last of %d calls after the restart", len(after)), func(r cdrRecord) bool {
			return r.Src == after[len(after)-1]
		})
	}

	// Bindings loaded from the crashed file expire on time.
	var short []string
	for _, u := range ackedBefore {
		if expiry[u] == shortExpiry {
			short = append(short, u)
		}
	}
	if len(short) == 0 {
		t.Fatalf("no short-lived binding was acknowledged before the kill")
	}
	sort.Strings(short)
	var lastShortAck time.Time
	for _, ev := range regEvents {
		if ev.What == "registered" && expiry[ev.Key] == shortExpiry && ev.At.After(lastShortAck) {
			lastShortAck = ev.At
		}
	}
	expiresBy := lastShortAck.Add(shortExpiry)
	pbx.WaitConsole(t, "pjsip show contacts", time.Until(expiresBy)+5*time.Second, func(out string) bool {
		for _, u := range short {
			if hasContact(out, u, u, phonesAddr) {
				return false
			}
		}
		return true
	})
	out = contacts(t, pbx)
	for _, u := range ackedBefore {
		if expiry[u] == longExpiry && !hasContact(out, u, u, phonesAddr) {
			t.Errorf("binding of %s (expires in %v) disappeared with the short ones", u, longExpiry)
		}
	}
	// The expiry loop (every second) deletes the rows shortly after the
	// bindings stop being served.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var left []string
		st := readDurableState(t, dbPath)
		for _, u := range short {
			if st.bindings[u+"|"+phonesAddr] {
				left = append(left, u)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired bindings still in the location table 5 s after they stopped being served: %q", left)
		}
	}
	t.Logf("%d bindings with Expires %v, loaded at restart, expired on time; test ran %v", len(short), shortExpiry, time.Since(start).Round(time.Millisecond))

	pbx.Stop(t)
	readDurableState(t, dbPath) // integrity after a clean stop too
}

// cdrCrashWindow is how long before a crash a call may have ended and
// still lose its CDR: the record is written after the BYE is answered
// (docs/operations.md). It is generous for a loaded 2-core machine; the
// test logs the newest record actually lost.
const cdrCrashWindow = time.Second

func durUser(i int) string           { return fmt.Sprintf("d%d", 2000+i) }
func durPassword(user string) string { return "pw-" + user }

// durabilityPJSIP: n users (endpoint/auth/aor from templates, one contact
// each, short expiries allowed), a trunk identified by the caller's
// address, and the callee at a static contact.
func durabilityPJSIP(pbxIP, callerIP, calleeIP string, n int) string {
	b := loadPJSIP(pbxIP, "dur", calleeIP, map[string]string{"caller": callerIP})
	b.WriteString(`
[aor](!)
type=aor
max_contacts=1
remove_existing=yes
minimum_expiration=5
`)
	for i := range n {
		u := durUser(i)
		fmt.Fprintf(b, "\n[%[1]s](ep)\nauth=%[1]s\naors=%[1]s\n[%[1]s]\ntype=auth\nauth_type=userpass\nusername=%[1]s\npassword=%[2]s\n[%[1]s](aor)\n", u, durPassword(u))
	}
	return b.String()
}

// durableState is what a gopbx database file holds.
type durableState struct {
	bindings map[string]bool // "aor|host:port" of each location row's contact
	cdrSrcs  map[string]bool // src of each cdr row
}

// readDurableState opens gopbx's database read-only (gopbx must not be
// writing it, or may be: WAL readers do not block), checks its integrity
// and returns its bindings and CDRs. After a crash this is what survived.
func readDurableState(t *testing.T, path string) durableState {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var problems []string
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check %s: %v", path, err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(problems) > 0 {
		t.Fatalf("PRAGMA integrity_check on %s: %q", path, problems)
	}

	st := durableState{bindings: map[string]bool{}, cdrSrcs: map[string]bool{}}
	rows, err = db.QueryContext(ctx, "SELECT aor, contact FROM location")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var aor, contact string
		if err := rows.Scan(&aor, &contact); err != nil {
			t.Fatal(err)
		}
		// sip:user@host:port;transport=udp -> host:port
		hp := contact[strings.LastIndexByte(contact, '@')+1:]
		if i := strings.IndexAny(hp, ";>"); i >= 0 {
			hp = hp[:i]
		}
		st.bindings[aor+"|"+hp] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, "SELECT src FROM cdr")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var src string
		if err := rows.Scan(&src); err != nil {
			t.Fatal(err)
		}
		st.cdrSrcs[src] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return st
}
