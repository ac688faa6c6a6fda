package harness

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIPpOptions configures one SIPp run.
type SIPpOptions struct {
	// Scenario is a file name under test/scenarios ("register_auth.xml",
	// the .xml may be left out), a path, or inline XML (starts with "<").
	Scenario string
	// Remote is the peer, "ip:port". Empty for a UAS that only answers.
	Remote string
	// LocalIP is SIPp's own address (required, loopback); SIPp binds to it
	// (-i, -bind_local).
	LocalIP string
	// LocalPort is SIPp's SIP port; 0 picks a free one (see SIPp.Port).
	LocalPort int
	// Transport is "u1" (UDP, default) or "t1" (TCP, one connection).
	Transport string
	// Calls bounds the number of calls (-m, default 1).
	Calls int
	// Rate is calls per second (-r); 0 keeps SIPp's default (10).
	Rate float64
	// Limit bounds simultaneous calls (-l); 0 keeps SIPp's default.
	Limit int
	// Users is the content of the -inf CSV ("SEQUENTIAL\n1000;secret\n").
	Users string
	// Service is the Request-URI user ([service], -s).
	Service string
	// Keys are extra [keyword] values (-key name value).
	Keys map[string]string
	// AutoAnswer answers unexpected INFO/NOTIFY/OPTIONS/UPDATE with 200 (-aa).
	AutoAnswer bool
	// Timeout ends the run as a failure (-timeout, -timeout_error);
	// default 30 s. The process is killed 15 s after it.
	Timeout time.Duration
	// ExtraArgs are appended to the command line.
	ExtraArgs []string
}

// SIPpResult is the outcome of a SIPp run.
type SIPpResult struct {
	// ExitCode is SIPp's: 0 all calls succeeded, 1 at least one failed,
	// 97 stopped by an internal command, 99 ended without processing a
	// call, 255 fatal error (also a global timeout), 254 socket bind
	// failure; -1 when it had to be killed.
	ExitCode   int
	Successful int // SuccessfulCall(C) from the statistics file
	Failed     int // FailedCall(C)
	Retrans    int // Retransmissions(C)
	Output     string
	Errors     string // the -trace_err file: why calls failed
	Messages   string // the -trace_msg file: every message sent and received
	Elapsed    time.Duration
}

// OK reports a clean run: exit code 0 and no failed call.
func (r SIPpResult) OK() bool { return r.ExitCode == 0 && r.Failed == 0 }

// SIPp is a running SIPp process.
type SIPp struct {
	t       testing.TB
	opts    SIPpOptions
	dir     string
	port    int
	proc    *proc
	start   time.Time
	result  *SIPpResult
	timeout time.Duration
}

// RunSIPp runs SIPp to completion and returns its result; a failed run is
// logged (errors and message trace) but does not fail the test: assert on
// the result, or use RequireSIPp.
func RunSIPp(t testing.TB, opts SIPpOptions) SIPpResult {
	t.Helper()
	return StartSIPp(t, opts).Wait()
}

// RequireSIPp runs SIPp and fails the test unless every call succeeded.
func RequireSIPp(t testing.TB, opts SIPpOptions) SIPpResult {
	t.Helper()
	r := RunSIPp(t, opts)
	if !r.OK() {
		t.Fatalf("harness: sipp %s: exit %d, %d successful, %d failed calls (want all %d successful)",
			opts.Scenario, r.ExitCode, r.Successful, r.Failed, max(opts.Calls, 1))
	}
	return r
}

// StartSIPp starts SIPp in the background (for a UAS, or to run a client
// alongside other work). Wait collects the result; cleanup kills a SIPp
// still running when the test ends.
func StartSIPp(t testing.TB, opts SIPpOptions) *SIPp {
	t.Helper()
	return startSIPp(t, opts, nil)
}

// startSIPp starts SIPp on the host (ns nil: loopback addresses only, a
// free port by default) or inside ns (any address of ns, port 5060 by
// default).
func startSIPp(t testing.TB, opts SIPpOptions, ns *Netns) *SIPp {
	t.Helper()
	bin := RequireTool(t, "sipp")
	if opts.LocalIP == "" {
		t.Fatal("harness: SIPpOptions.LocalIP is required")
	}
	if ns == nil {
		mustLoopback(t, "SIPpOptions.LocalIP", opts.LocalIP)
		if opts.Remote != "" {
			mustLoopback(t, "SIPpOptions.Remote", opts.Remote)
		}
	} else if opts.LocalPort == 0 {
		opts.LocalPort = 5060
	}
	if opts.Transport == "" {
		opts.Transport = "u1"
	}
	if opts.Calls <= 0 {
		opts.Calls = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	s := &SIPp{t: t, opts: opts, dir: t.TempDir(), timeout: opts.Timeout}
	s.port = opts.LocalPort
	if s.port == 0 {
		s.port = FreePort(t, opts.LocalIP)
	}
	scen := s.scenarioFile(t)
	f := func(name string) string { return filepath.Join(s.dir, name) }
	args := []string{bin}
	if opts.Remote != "" {
		args = append(args, opts.Remote)
	}
	args = append(args,
		"-sf", scen,
		"-i", opts.LocalIP, "-bind_local",
		"-p", strconv.Itoa(s.port),
		"-t", opts.Transport,
		"-m", strconv.Itoa(opts.Calls),
		"-timeout", fmt.Sprintf("%dms", opts.Timeout.Milliseconds()), "-timeout_error",
		"-nostdin",
		"-trace_err", "-error_file", f("errors.log"),
		"-trace_msg", "-message_file", f("messages.log"),
		"-trace_stat", "-stf", f("stat.csv"), "-fd", "1",
	)
	if opts.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(opts.Rate, 'f', -1, 64))
	}
	if opts.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(opts.Limit))
	}
	if opts.Users != "" {
		p := f("users.csv")
		if err := os.WriteFile(p, []byte(opts.Users), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-inf", p)
	}
	if opts.Service != "" {
		args = append(args, "-s", opts.Service)
	}
	for k, v := range opts.Keys {
		args = append(args, "-key", k, v)
	}
	if opts.AutoAnswer {
		args = append(args, "-aa")
	}
	args = append(args, opts.ExtraArgs...)
	s.start = time.Now()
	if ns != nil {
		args = ns.Command(args...)
	}
	pr, err := startProc("sipp", f("output.log"), s.dir, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	s.proc = pr
	t.Cleanup(func() {
		if !pr.exited() {
			pr.kill()
		}
	})
	return s
}

// Port is SIPp's SIP port.
func (s *SIPp) Port() int { return s.port }

// Addr is SIPp's SIP address, "ip:port".
func (s *SIPp) Addr() string { return HostPort(s.opts.LocalIP, s.port) }

// Stop ends a SIPp that is still running (a UAS waiting for more calls)
// with SIGUSR1, SIPp's "stop gracefully", then collects the result.
func (s *SIPp) Stop() SIPpResult {
	if !s.proc.exited() {
		_ = s.proc.cmd.Process.Signal(syscall.SIGUSR1)
	}
	return s.Wait()
}

// Wait waits for SIPp to end (killing it 15 s after its own timeout) and
// returns the result; when the run was not clean it logs why.
func (s *SIPp) Wait() SIPpResult {
	s.t.Helper()
	if s.result != nil {
		return *s.result
	}
	killed := false
	select {
	case <-s.proc.done:
	case <-time.After(time.Until(s.start.Add(s.timeout + 15*time.Second))):
		s.proc.kill()
		killed = true
	}
	r := SIPpResult{ExitCode: s.proc.cmd.ProcessState.ExitCode(), Elapsed: time.Since(s.start)}
	if killed {
		r.ExitCode = -1
	}
	f := func(name string) string { return filepath.Join(s.dir, name) }
	r.Output = readLog(f("output.log"))
	r.Errors = readLog(f("errors.log"))
	r.Messages = readLog(f("messages.log"))
	r.Successful, r.Failed, r.Retrans = parseSIPpStats(readLog(f("stat.csv")))
	s.result = &r
	if !r.OK() {
		s.t.Logf("harness: sipp %s (%s -> %s): exit %d, %d successful, %d failed, %d retransmissions, %v",
			s.opts.Scenario, s.Addr(), s.opts.Remote, r.ExitCode, r.Successful, r.Failed, r.Retrans, r.Elapsed.Round(time.Millisecond))
		s.t.Logf("---- sipp errors ----\n%s", tail(r.Errors, 16<<10))
		s.t.Logf("---- sipp messages ----\n%s", tail(r.Messages, 48<<10))
		s.t.Logf("---- sipp output ----\n%s", tail(r.Output, 8<<10))
	}
	return r
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[... truncated ...]\n" + s[len(s)-n:]
}

// scenarioFile resolves opts.Scenario to a file.
func (s *SIPp) scenarioFile(t testing.TB) string {
	t.Helper()
	sc := strings.TrimSpace(s.opts.Scenario)
	if sc == "" {
		t.Fatal("harness: SIPpOptions.Scenario is required")
	}
	if strings.HasPrefix(sc, "<") {
		p := filepath.Join(s.dir, "scenario.xml")
		if err := os.WriteFile(p, []byte(sc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return ScenarioPath(t, sc)
}

// ScenarioPath resolves a scenario name (with or without .xml) under
// test/scenarios, or an existing path.
func ScenarioPath(t testing.TB, name string) string {
	t.Helper()
	if filepath.IsAbs(name) || strings.Contains(name, string(filepath.Separator)) {
		if _, err := os.Stat(name); err != nil {
			t.Fatalf("harness: scenario %s: %v", name, err)
		}
		return name
	}
	if !strings.HasSuffix(name, ".xml") {
		name += ".xml"
	}
	p := filepath.Join(ModuleRoot(t), "test", "scenarios", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("harness: scenario %s: %v", name, err)
	}
	return p
}

// parseSIPpStats reads the cumulative counters of the last row of a
// -trace_stat CSV.
func parseSIPpStats(data string) (ok, failed, retrans int) {
	r := csv.NewReader(strings.NewReader(data))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return 0, 0, 0
	}
	head, last := rows[0], rows[len(rows)-1]
	get := func(name string) int {
		for i, h := range head {
			if h == name && i < len(last) {
				n, _ := strconv.Atoi(strings.TrimSpace(last[i]))
				return n
			}
		}
		return 0
	}
	return get("SuccessfulCall(C)"), get("FailedCall(C)"), get("Retransmissions(C)")
}
