package test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Overload (issue #8 §3, scaled to a shared 2-core machine): two trusted
// sources offer ten times the calls gopbx is configured to carry
// (asterisk.conf maxcalls=50, calls held 2 s: 25 calls/s sustainable,
// 250/s offered for 15 s). gopbx must shed the excess with 503 and
// Retry-After and nothing else: every INVITE answered, every established
// call torn down normally, OPTIONS answered throughout, memory bounded, a
// normal call through within 5 s of the load ending. Then an untrusted
// source floods INVITEs past gopbx.conf's invite_rate: it gets 503s while
// another source's calls go through.
//
// Addresses 127.0.0.145-149: gopbx, the callee (a SIPp UAS; its address
// also places the probe calls), the two load sources (ban_ignore, like a
// proxy in front), the flooding source.
func TestOverload(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	var (
		pbxIP    = harness.IP(t, "127.0.0.145")
		calleeIP = harness.IP(t, "127.0.0.146")
		srcA     = harness.IP(t, "127.0.0.147")
		srcB     = harness.IP(t, "127.0.0.148")
		floodIP  = harness.IP(t, "127.0.0.149")
	)
	const (
		maxCalls   = 50
		hold       = 2 * time.Second
		perSource  = 125.0 // calls/s from each of two sources: 10 x 25/s
		loadFor    = 15 * time.Second
		inviteRate = 20 // gopbx.conf invite_rate for untrusted sources
		floodRate  = 100.0
		floodFor   = 3 * time.Second
		rssCap     = 1 << 30 // bytes
	)
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: pbxIP, Files: map[string]string{
		"pjsip.conf":      loadPJSIP(pbxIP, "ov", calleeIP, map[string]string{"trunk-a": srcA, "trunk-b": srcB, "flood": floodIP, "probe": calleeIP}).String(),
		"extensions.conf": "[ov]\nexten => 100,1,Dial(PJSIP/callee,10)\n same => n,Hangup()\n",
		"asterisk.conf":   fmt.Sprintf("[options]\nmaxcalls = %d\n", maxCalls),
		"gopbx.conf":      fmt.Sprintf("[security]\ninvite_rate = %d\nban_ignore = %s/32, %s/32\n", inviteRate, srcA, srcB),
	}, Args: loadLogLevel})
	// The callee runs until the test's cleanup kills it.
	harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_uas", LocalIP: calleeIP, LocalPort: 5060,
		Calls: 1000000, Limit: 100000, Timeout: 80 * time.Second})
	waitUDPListening(t, calleeIP, 5060, 5*time.Second)

	// Watch gopbx while the load runs: memory, OPTIONS, calls in progress.
	mon := watchPBX(t, pbx, floodIP)

	nPer := int(perSource * loadFor.Seconds())
	type source struct {
		ip   string
		log  string
		sipp *harness.SIPp
	}
	var srcs []*source
	for _, ip := range []string{srcA, srcB} {
		s := &source{ip: ip}
		var args []string
		s.log, args = sippEventLog(t, "load-"+ip)
		s.sipp = harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_uac", Remote: pbx.Addr(), LocalIP: ip,
			Service: "100", Calls: nPer, Rate: perSource, Limit: 2000, Timeout: loadFor + 30*time.Second,
			ExtraArgs: append([]string{"-d", fmt.Sprint(hold.Milliseconds())}, args...)})
		srcs = append(srcs, s)
	}
	var offered, rejected, answered, completed, failed int
	var all []sippEvent
	for _, s := range srcs {
		r := s.sipp.Wait()
		evs := readSIPpEvents(t, s.log)
		for _, ev := range evs {
			ev.Key = s.ip + "/" + ev.Key
			all = append(all, ev)
		}
		rej, ans, comp := countEvents(evs, "rejected"), countEvents(evs, "answered"), countEvents(evs, "completed")
		t.Logf("source %s: %d calls offered at %.0f/s: %d rejected 503, %d answered, %d completed; SIPp %d successful, %d failed, %d retransmissions, %v",
			s.ip, nPer, perSource, rej, ans, comp, r.Successful, r.Failed, r.Retrans, r.Elapsed.Round(time.Millisecond))
		offered += nPer
		rejected += rej
		answered += ans
		completed += comp
		failed += r.Failed
	}
	loadEnded := time.Now()
	peakUp := peakConcurrent(all)
	peakCDR := peakCDRs(t, filepath.Join(pbx.DataDir(), "gopbx.db"))

	// Service is back within 5 s: a normal call from an untrusted source.
	firstLog, firstArgs := sippEventLog(t, "first-call")
	pr := harness.RunSIPp(t, harness.SIPpOptions{Scenario: "overload_uac", Remote: pbx.Addr(), LocalIP: calleeIP,
		Service: "100", Timeout: 10 * time.Second, ExtraArgs: append([]string{"-d", "100"}, firstArgs...)})
	recovered := time.Since(loadEnded)
	stats := mon.stop()
	t.Logf("during the load: peak RSS %d MiB (%d samples), peak %d calls in progress (maxcalls %d), %d OPTIONS probes answered, slowest %v",
		stats.peakRSS>>20, stats.rssSamples, stats.peakCalls, maxCalls, stats.optionsOK, stats.slowestOptions.Round(time.Millisecond))
	t.Logf("total: %d offered, %d shed with 503, %d answered, %d completed, %d failed; peak calls at once: %d in the CDRs, %d as the callers saw them; normal call %v after the load",
		offered, rejected, answered, completed, failed, peakCDR, peakUp, recovered.Round(time.Millisecond))

	if !pbx.Running() {
		t.Fatal("gopbx died under load")
	}
	if failed != 0 || rejected+answered != offered {
		t.Errorf("%d of %d calls failed or got neither 503 nor 200 (%d rejected, %d answered): under overload every INVITE must be answered", failed, offered, rejected, answered)
	}
	if !strings.Contains(pbx.Log(), "invite refused: maxcalls reached") {
		t.Errorf("no INVITE was refused for maxcalls")
	}
	if rejected < offered/2 {
		t.Errorf("only %d of %d calls offered at 10x capacity were shed with 503", rejected, offered)
	}
	if answered == 0 || completed != answered {
		t.Errorf("%d calls answered but %d BYEs got their 200: established calls must end normally", answered, completed)
	}
	if stats.optionsFailed > 0 {
		t.Errorf("%d OPTIONS probes went unanswered for 5 s during the load", stats.optionsFailed)
	}
	if stats.rssErr != nil {
		t.Errorf("reading gopbx's RSS: %v", stats.rssErr)
	}
	if stats.peakRSS > rssCap {
		t.Errorf("peak RSS %d MiB, over the %d MiB cap", stats.peakRSS>>20, rssCap>>20)
	}
	// maxcalls holds: no more calls at once than configured, counted from
	// gopbx's own CDRs (start to end, in nanoseconds). One call of slack:
	// a channel's context ends (and chansip frees the call's slot) just
	// before its hangup, the CDR's end, is published, so a call admitted
	// in between overlaps its predecessor by microseconds.
	if slack := 1; peakCDR > maxCalls+slack {
		t.Errorf("gopbx's CDRs show %d calls at once (the callers saw %d), over maxcalls %d", peakCDR, peakUp, maxCalls)
	}
	if !pr.OK() || countEvents(readSIPpEvents(t, firstLog), "completed") != 1 {
		t.Errorf("a normal call after the load did not succeed (exit %d, %d successful, %d failed)", pr.ExitCode, pr.Successful, pr.Failed)
	} else if recovered > 5*time.Second {
		t.Errorf("the first normal call after the load took until %v after it ended, want within 5 s", recovered.Round(time.Millisecond))
	}

	// invite_rate: one source floods; another still gets its calls through.
	nFlood := int(floodRate * floodFor.Seconds())
	floodLog, floodArgs := sippEventLog(t, "flood")
	flood := harness.StartSIPp(t, harness.SIPpOptions{Scenario: "overload_uac", Remote: pbx.Addr(), LocalIP: floodIP,
		Service: "100", Calls: nFlood, Rate: floodRate, Limit: 2000, Timeout: floodFor + 20*time.Second,
		ExtraArgs: append([]string{"-d", "100"}, floodArgs...)})
	time.Sleep(floodFor / 3)
	probeLog, probeArgs := sippEventLog(t, "probe")
	pp := harness.RunSIPp(t, harness.SIPpOptions{Scenario: "overload_uac", Remote: pbx.Addr(), LocalIP: calleeIP,
		Service: "100", Calls: 4, Rate: 2, Timeout: 15 * time.Second, ExtraArgs: append([]string{"-d", "100"}, probeArgs...)})
	fr := flood.Wait()
	fevs := readSIPpEvents(t, floodLog)
	frej, fcomp := countEvents(fevs, "rejected"), countEvents(fevs, "completed")
	pcomp := countEvents(readSIPpEvents(t, probeLog), "completed")
	t.Logf("flood at %.0f INVITE/s (invite_rate %d): %d of %d rejected 503, %d completed; SIPp %d failed; other source: %d of 4 calls completed",
		floodRate, inviteRate, frej, nFlood, fcomp, fr.Failed, pcomp)
	if frej < nFlood/2 {
		t.Errorf("only %d of %d flooding INVITEs got 503 with invite_rate %d", frej, nFlood, inviteRate)
	}
	if fcomp == 0 {
		t.Errorf("the flooding source got no call through at all; invite_rate should admit %d/s", inviteRate)
	}
	if frej+fcomp != nFlood || fr.Failed != 0 {
		t.Errorf("flood: %d rejected + %d completed of %d, %d failed: every INVITE must get 503 or a call", frej, fcomp, nFlood, fr.Failed)
	}
	if !pp.OK() || pcomp != 4 {
		t.Errorf("another source's calls during the flood: %d of 4 completed (exit %d)", pcomp, pp.ExitCode)
	}
	if !strings.Contains(pbx.Log(), "security: invite rate exceeded") {
		t.Errorf("the rate limit was not logged")
	}
	if err := harness.WaitSIP("udp", floodIP, pbx.Addr(), 5*time.Second); err != nil {
		t.Errorf("OPTIONS after the load: %v", err)
	}
	if !pbx.Running() {
		t.Fatal("gopbx died")
	}
}

// loadPJSIP is the pjsip.conf of the load tests: trunks identified by
// address (name -> IP) in context, an endpoint template ep to build on,
// and the callee at a static contact. Sections appended later may use ep.
func loadPJSIP(pbxIP, context, calleeIP string, trunks map[string]string) *strings.Builder {
	var b strings.Builder
	fmt.Fprintf(&b, `[global]
type=global
user_agent=gopbx-test

[transport-udp]
type=transport
protocol=udp
bind=%s:5060

[ep](!)
type=endpoint
context=%s
disallow=all
allow=ulaw

[callee](ep)
aors=callee
[callee]
type=aor
contact=sip:callee@%s:5060
`, pbxIP, context, calleeIP)
	names := make([]string, 0, len(trunks))
	for name := range trunks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "\n[%[1]s](ep)\n[%[1]s]\ntype=identify\nendpoint=%[1]s\nmatch=%[2]s\n", name, trunks[name])
	}
	return &b
}

// monitorStats is what watchPBX saw.
type monitorStats struct {
	peakRSS, rssSamples int64
	rssErr              error
	peakCalls           int
	optionsOK           int
	optionsFailed       int
	slowestOptions      time.Duration
}

type monitor struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	st    monitorStats
}

// watchPBX samples gopbx's VmRSS every 200 ms, sends an OPTIONS from
// local every 500 ms (each may take 5 s) and reads `core show calls`,
// until stop.
func watchPBX(t *testing.T, pbx *harness.PBX, local string) *monitor {
	m := &monitor{stopc: make(chan struct{}), done: make(chan struct{})}
	pid := pbx.Pid()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, err := vmRSS(pid)
			m.mu.Lock()
			if err != nil && m.st.rssErr == nil {
				m.st.rssErr = err
			}
			m.st.peakRSS = max(m.st.peakRSS, rss)
			m.st.rssSamples++
			m.mu.Unlock()
			select {
			case <-m.stopc:
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			res, err := harness.Options(ctx, "udp", local, pbx.Addr())
			cancel()
			took := time.Since(start)
			calls := -1
			if out, cerr := pbx.ConsoleErr("core show calls"); cerr == nil {
				if f := strings.Fields(out); len(f) > 0 {
					calls, _ = strconv.Atoi(f[0])
				}
			}
			m.mu.Lock()
			if err == nil && res.Status == 200 {
				m.st.optionsOK++
			} else {
				m.st.optionsFailed++
				t.Logf("OPTIONS probe during the load: status %d, err %v", res.Status, err)
			}
			m.st.slowestOptions = max(m.st.slowestOptions, took)
			m.st.peakCalls = max(m.st.peakCalls, calls)
			m.mu.Unlock()
			select {
			case <-m.stopc:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	go func() { wg.Wait(); close(m.done) }()
	t.Cleanup(func() { m.stop() })
	return m
}

// stop ends the sampling (idempotent) and returns the statistics.
func (m *monitor) stop() monitorStats {
	select {
	case <-m.stopc:
	default:
		close(m.stopc)
	}
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}

// vmRSS reads a process's resident set size from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// sippEvent is one line a load scenario (overload_uac, overload_register)
// logged through -trace_logs: "<what> <key> <date> <time> <unix.micro>".
type sippEvent struct {
	What string // registered, rejected, answered, completed
	Key  string // the user, or SIPp's call number
	At   time.Time
}

// sippEventLog returns a log file for a SIPp run's events and the
// arguments that make SIPp write it.
func sippEventLog(t *testing.T, name string) (string, []string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".log")
	return p, []string{"-trace_logs", "-log_file", p}
}

// readSIPpEvents parses a -trace_logs file of a finished SIPp run; a
// missing file means no events.
func readSIPpEvents(t *testing.T, path string) []sippEvent {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []sippEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			continue // SIPp's own messages
		}
		sec, frac, _ := strings.Cut(fs[4], ".")
		s, err1 := strconv.ParseInt(sec, 10, 64)
		us, err2 := strconv.ParseInt(frac, 10, 64)
		if err1 != nil || err2 != nil || len(frac) != 6 {
			t.Fatalf("%s: bad timestamp in %q", path, sc.Text())
		}
		evs = append(evs, sippEvent{What: fs[0], Key: fs[1], At: time.Unix(s, us*1000)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// peakCDRs is the most calls at once in the cdr table of gopbx's
// database (opened read-only), each from its start to its end.
func peakCDRs(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT start, "end" FROM cdr`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var evs []sippEvent
	for rows.Next() {
		var start, end int64
		if err := rows.Scan(&start, &end); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, sippEvent{What: "answered", At: time.Unix(0, start)}, sippEvent{What: "completed", At: time.Unix(0, end)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return peakConcurrent(evs)
}

// loadLogLevel are the gopbx arguments of the load tests: Info logging, as
// in production, instead of the harness's -vvv, whose sipgo traces would
// cost more CPU than the calls.
var loadLogLevel = []string{"-v=false"}

// peakConcurrent is the most calls that were up at once, each from its
// answered to its completed event. From SIPp's logs it is only indicative
// (two SIPp processes log on their own schedule); from gopbx's CDRs it is
// exact.
func peakConcurrent(evs []sippEvent) int {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b sippEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(b.What, a.What) // "completed" before "answered" at the same instant
	})
	up, peak := 0, 0
	for _, ev := range sorted {
		switch ev.What {
		case "answered":
			up++
			peak = max(peak, up)
		case "completed":
			up--
		}
	}
	return peak
}

func countEvents(evs []sippEvent, what string) int {
	n := 0
	for _, ev := range evs {
		if ev.What == what {
			n++
		}
	}
	return n
}
