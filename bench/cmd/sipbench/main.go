// Command sipbench measures gopbx against Kamailio under SIP load (issue 7)
// and writes bench/results/latest.md and latest.json.
//
// For each workload of the table in workloads.go and each server, it steps
// the SIPp call rate; every step restarts the server, runs SIPp for a fixed
// duration (bounded by -m, -timeout and a kill timer) and records SIPp's
// counts, the server's CPU from /proc/PID/stat (summed over the process
// group), SIPp's CPU (rusage), peak RSS (VmHWM), UDP drops per socket from
// /proc/net/udp and SIPp's response times. The first step that is not
// clean (more than 0.1% failed calls, or under 90% of the target rate)
// ends the stepping; in full mode the highest clean step runs twice more
// (3 runs: min/median/max).
//
// The media loads (media.go: calls with RTP through gopbx's relay, held
// calls) step the number of concurrent calls instead, with a Go UAC/UAS
// (ua.go) and RTP generator (rtpgen.go), and record loss, CPU per packet,
// RSS, descriptors and goroutines.
//
// Run it from the repository root, as `make bench` and `make bench-quick`
// do (see bench/README.md):
//
//	go build -o bin/gopbx ./cmd/gopbx
//	go build -o bin/sipbench ./bench/cmd/sipbench
//	bin/sipbench -quick
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errBudget says the time budget ran out; the report lists what was skipped.
var errBudget = errors.New("time budget used up")

// Clean-run criteria.
const (
	maxFailedRatio = 0.001 // ≤ 0.1% failed calls
	minAchieved    = 0.90  // ≥ 90% of the target rate (SIPp paces a little under it at high rates)
)

type bench struct {
	root, benchDir string
	workDir        string
	gopbx          string
	kamailio       string
	kamailioCfg    string
	kamailioDBCfg  string // kamailio-db: usrloc written through to SQLite
	sippNice       int
	security       string // extra [security] lines for gopbx.conf (-security)
	sipp           string
	pprof          string
	quick          bool
	reps           int
	budget         time.Duration
	sipBudget      time.Duration // the SIPp loads' share of budget
	started        time.Time
	durOverride    time.Duration
	stepsOverride  []int
	ctx            context.Context
	res            *results
	// mediaProfile, when set, receives gopbx's CPU profile taken over the
	// window of the RTP step with mediaProfileCalls calls.
	mediaProfile      string
	mediaProfileCalls int
	// heldProfile, when set, is the prefix of the heap and goroutine
	// profiles of gopbx saved at every step of the held-call ramps.
	heldProfile string
	goBin       string

	// kamailioDBChildren is kamailio-db's number of SIP workers.
	kamailioDBChildren int
}

func main() { os.Exit(run()) }

func run() int {
	var (
		quick     = flag.Bool("quick", false, "quick mode: 2 steps per load, short runs, no repetition (make bench-quick)")
		root      = flag.String("root", ".", "repository root")
		gopbxBin  = flag.String("gopbx", "bin/gopbx", "gopbx binary (build it first: make build)")
		out       = flag.String("out", "bench/results", "directory for latest.md and latest.json")
		only      = flag.String("servers", "gopbx,kamailio,kamailio-db", "servers to measure (kamailio-db: Kamailio with usrloc written through to SQLite, register workload only)")
		loads     = flag.String("workloads", "", "workloads to run (comma separated; default every one that is ready)")
		steps     = flag.String("steps", "", "override the rate steps of every workload (comma separated ops/s)")
		dur       = flag.Duration("duration", 0, "override the duration of each step")
		reps      = flag.Int("reps", 0, "runs at the best step, counting the step's own run (default 3, quick 1)")
		budget    = flag.Duration("budget", 0, "start no run after this much time (default 13m40s, quick 95s), so that make bench stays under 15 minutes (the media loads get the last part of it, see mediaReserve)")
		micro     = flag.String("micro", "", "also run the Go micro-benchmarks with this -benchtime (e.g. 1s) and include them")
		goBin     = flag.String("go", "go", "go command for the micro-benchmarks")
		keep      = flag.Bool("keep", false, "keep the work directory (server logs, SIPp files)")
		workDir   = flag.String("workdir", "", "work directory (default a new temporary one)")
		pprofAddr = flag.String("pprof", "", "start gopbx with -pprof ADDR (profile it while a step runs)")
		kamCfg    = flag.String("kamailio-cfg", "bench/kamailio/registrar.cfg", "Kamailio configuration")
		kamDBCfg  = flag.String("kamailio-db-cfg", "bench/kamailio/registrar-sqlite.cfg", "Kamailio configuration of server kamailio-db (usrloc db_mode 1 on db_sqlite)")
		kamDBKids = flag.Int("kamailio-db-children", 1, "SIP workers of kamailio-db (children=): more than 1 write to SQLite at once and fail with \"database is locked\" (Kamailio 5.6's db_sqlite sets no busy timeout)")
		sippNice  = flag.Int("sipp-nice", 0, "nice value for the SIPp processes (negative needs root)")
		rtpProf   = flag.String("rtp-profile", "", "also copy gopbx's CPU profile of the -rtp-profile-calls step to this file")
		rtpProfN  = flag.Int("rtp-profile-calls", -1, "profile gopbx over the window of the RTP step with this many calls and put the top in the report (default 1000, quick 0 = none)")
		heldProf  = flag.String("held-profile", "", "save gopbx's heap profile (after a GC; .heap, and as text with MemStats: .heap.txt) and goroutine dump (.goroutines) at every held-call step as PREFIX-WORKLOAD-CALLS.*")
		security  = flag.String("security", "", "extra lines for gopbx.conf's [security] section, separated by ';' (e.g. \"overload_delay=100;overload_wait=0\")")
		merge     = flag.Bool("merge", false, "keep the workloads of the existing latest.json that this run does not measure (re-run some loads without losing the others)")
	)
	flag.Parse()

	absRoot, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		return 2
	}
	b := &bench{root: absRoot, quick: *quick, reps: *reps, budget: *budget, pprof: *pprofAddr, durOverride: *dur, started: time.Now()}
	b.benchDir = filepath.Join(b.root, "bench")
	b.sippNice = *sippNice
	b.security = strings.ReplaceAll(*security, ";", "\n")
	b.mediaProfile, b.mediaProfileCalls, b.goBin = *rtpProf, *rtpProfN, *goBin
	if b.mediaProfileCalls < 0 {
		b.mediaProfileCalls = 1000
		if b.quick {
			b.mediaProfileCalls = 0
		}
	}
	if b.mediaProfile != "" && !filepath.IsAbs(b.mediaProfile) {
		b.mediaProfile, _ = filepath.Abs(b.mediaProfile)
	}
	if b.heldProfile = *heldProf; b.heldProfile != "" && !filepath.IsAbs(b.heldProfile) {
		b.heldProfile, _ = filepath.Abs(b.heldProfile)
	}
	b.kamailioCfg, b.kamailioDBCfg, b.kamailioDBChildren = *kamCfg, *kamDBCfg, *kamDBKids
	if b.kamailioDBChildren < 1 {
		fmt.Fprintln(os.Stderr, "sipbench: -kamailio-db-children must be at least 1")
		return 2
	}
	if !filepath.IsAbs(b.kamailioCfg) {
		b.kamailioCfg = filepath.Join(b.root, b.kamailioCfg)
	}
	if !filepath.IsAbs(b.kamailioDBCfg) {
		b.kamailioDBCfg = filepath.Join(b.root, b.kamailioDBCfg)
	}
	if b.reps == 0 {
		b.reps = 3
		if b.quick {
			b.reps = 1
		}
	}
	if b.budget == 0 {
		b.budget = 13*time.Minute + 40*time.Second
		if b.quick {
			b.budget = 95 * time.Second
		}
	}
	for _, s := range splitList(*steps) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "sipbench: bad -steps value %q\n", s)
			return 2
		}
		b.stepsOverride = append(b.stepsOverride, n)
	}

	// Every process started here is ended on the way out, on an error, and
	// at once on SIGINT/SIGTERM/SIGHUP (Pdeathsig covers sipbench being
	// killed): the signal cancels the context and stops the children, which
	// unblocks whatever run was waiting for them.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "\nsipbench: %v: stopping every process it started\n", sig)
		cancel()
		closeAndStopAll()
	}()
	b.ctx = ctx
	for _, k := range killLeftovers() {
		fmt.Printf("sipbench: killed %s left by an earlier sipbench that was killed\n", k)
	}
	defer forgetGroups()
	defer stopAll()

	b.gopbx = *gopbxBin
	if !filepath.IsAbs(b.gopbx) {
		if b.gopbx, err = filepath.Abs(filepath.Join(b.root, b.gopbx)); err != nil {
			fmt.Fprintln(os.Stderr, "sipbench:", err)
			return 2
		}
	}
	b.sipp, _ = exec.LookPath("sipp")
	b.kamailio, _ = exec.LookPath("kamailio")
	if b.kamailio == "" {
		if _, err := os.Stat("/usr/sbin/kamailio"); err == nil {
			b.kamailio = "/usr/sbin/kamailio" // not on a non-root PATH
		}
	}
	if b.sipp == "" {
		fmt.Fprintln(os.Stderr, "sipbench: sipp not found (make test-deps installs it)")
		return 2
	}

	if *workDir != "" {
		b.workDir = *workDir
		err = os.MkdirAll(b.workDir, 0o755)
	} else {
		b.workDir, err = os.MkdirTemp("", "sipbench-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		return 2
	}
	if b.workDir, err = filepath.Abs(b.workDir); err != nil {
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		return 2
	}
	if !*keep {
		defer os.RemoveAll(b.workDir)
	} else {
		defer fmt.Printf("work directory kept: %s\n", b.workDir)
	}

	b.res = newResults(b)
	restore := b.raiseSocketBuffers()
	defer restore()
	fmt.Printf("sipbench: %s mode, work directory %s\n", b.res.Mode, b.workDir)
	for _, n := range b.res.Notes {
		fmt.Println("  " + n)
	}

	if *micro != "" {
		b.res.Micro = runMicro(ctx, *goBin, b.root, *micro)
	}

	wantServers := splitList(*only)
	wantLoads := splitList(*loads)
	// The media loads run last, in a reserve the SIPp loads leave them, so
	// that the whole stays within the budget.
	b.sipBudget = b.budget
	for _, w := range workloads {
		if w.Kind != "" && w.Pending == "" && (len(wantLoads) == 0 || slices.Contains(wantLoads, w.Name)) && slices.Contains(wantServers, "gopbx") {
			b.sipBudget = b.budget - mediaReserve(b.quick)
			break
		}
	}
	exit := 0
	for _, w := range workloads {
		if len(wantLoads) > 0 && !slices.Contains(wantLoads, w.Name) {
			continue
		}
		wr := &workloadResult{Name: w.Name, Title: w.Title, Op: w.Op, Pending: w.Pending, Baseline: w.Baseline, Kind: w.Kind}
		b.res.Workloads = append(b.res.Workloads, wr)
		if w.Pending != "" {
			fmt.Printf("\n== %s: not run: %s\n", w.Title, w.Pending)
			continue
		}
		for _, name := range w.Servers {
			if !slices.Contains(wantServers, name) {
				continue
			}
			s := serverByName(name)
			sr := &serverResult{Server: s.Name, Label: s.Label}
			wr.Servers = append(wr.Servers, sr)
			if why := w.PendingFor[name]; why != "" {
				sr.Pending = why
				fmt.Printf("\n== %s on %s: not run: %s\n", w.Title, s.Label, why)
				continue
			}
			measure := b.measure
			if w.Kind != "" {
				measure = func(w workload, _ *server, sr *serverResult) error { return b.measureMedia(w, sr) }
			}
			if err := measure(w, s, sr); err != nil {
				sr.Error = err.Error()
				fmt.Printf("   %s: %v\n", s.Label, err)
				if errors.Is(err, context.Canceled) {
					exit = 130
					break
				}
				if !errors.Is(err, errBudget) {
					exit = 1
				}
			}
		}
		if exit == 130 {
			break
		}
	}
	if b.res.Micro != nil && b.res.Micro.Error != "" && exit == 0 {
		exit = 1
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "sipbench: interrupted: results not written")
		return 130
	}
	b.res.Elapsed = time.Since(b.started).Round(time.Second).String()
	outDir := *out
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(b.root, outDir)
	}
	if *merge {
		merged, err := mergeResults(filepath.Join(outDir, "latest.json"), b.res)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sipbench: -merge:", err)
			return 1
		}
		b.res = merged
	}
	md := b.res.markdown()
	fmt.Print("\n" + md)
	if err := b.res.write(outDir); err != nil {
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		return 1
	}
	fmt.Printf("\nwrote %s and %s (%s)\n", filepath.Join(*out, "latest.md"), filepath.Join(*out, "latest.json"), b.res.Elapsed)
	return exit
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// measure steps the rate for one workload on one server, then repeats the
// best clean step.
func (b *bench) measure(w workload, s *server, sr *serverResult) error {
	if strings.HasPrefix(s.Name, "kamailio") && b.kamailio == "" {
		return errors.New("kamailio not installed (make test-deps installs it)")
	}
	if s.Name == "kamailio-db" {
		if err := kamailioDBReady(); err != nil {
			return err
		}
	}
	if s.Name == "gopbx" {
		if _, err := os.Stat(b.gopbx); err != nil {
			return fmt.Errorf("gopbx binary: %w (run make build)", err)
		}
	}
	plan := w.plan(s.Name)
	steps := plan.steps(b.quick)
	if len(b.stepsOverride) > 0 {
		steps = b.stepsOverride
	}
	dur := plan.duration(b.quick)
	if b.durOverride > 0 {
		dur = b.durOverride
	}
	fmt.Printf("\n== %s on %s (%s per step)\n", w.Title, s.Label, dur)
	best := -1
	// A run out of time budget keeps what was measured: the summary says
	// which runs were skipped (sr.Error).
	var stopped error
	for i, rate := range steps {
		r, err := b.stepRetry(w, s, rate, dur, fmt.Sprintf("step%d", i), true)
		if errors.Is(err, errBudget) && best >= 0 {
			stopped = err
			break
		}
		if err != nil {
			return err
		}
		sr.Steps = append(sr.Steps, r)
		if !r.Clean {
			sr.Knee = r
			break
		}
		best = rate
	}
	if best < 0 {
		sr.Limit = "no clean step"
		if sr.Knee != nil {
			sr.Limit = sr.Knee.Limit
		}
		return nil
	}
	sr.BestRate = best
	switch {
	case sr.Knee != nil:
		sr.Limit = sr.Knee.Limit
	case stopped != nil:
		sr.Limit = "not reached: the time budget ended the stepping"
	default:
		sr.Limit = "not reached: the highest step was clean"
	}
	// The best step's own run is the first repetition; the others are run
	// now.
	for _, r := range sr.Steps {
		if r.Target == best {
			r.Rep = 1
			sr.Reps = []*runResult{r}
		}
	}
	for i := 2; i <= b.reps && stopped == nil; i++ {
		r, err := b.stepRetry(w, s, best, dur, fmt.Sprintf("rep%d", i), false)
		if errors.Is(err, errBudget) {
			stopped = err
			break
		}
		if err != nil {
			return err
		}
		r.Rep = i
		sr.Reps = append(sr.Reps, r)
	}
	sr.summarise()
	if w.OverloadProbe && !b.quick && stopped == nil {
		// Beyond capacity a server should refuse what it cannot take and
		// keep completing calls at about its capacity, not collapse.
		r, err := b.step(w, s, 2*best, dur, "overload")
		if errors.Is(err, errBudget) {
			return err
		}
		if err != nil {
			return err
		}
		sr.Overload = r
	}
	return stopped
}

// stepRetry runs a step and, when it was not clean, once more if other work
// on the host took the cores during it (which says nothing about the
// server) or, in full mode, if it is a step of the search (near the knee a
// single stall can tip a run into a retransmission storm; the repetitions
// then show how often that happens).
func (b *bench) stepRetry(w workload, s *server, rate int, dur time.Duration, tag string, search bool) (*runResult, error) {
	r, err := b.step(w, s, rate, dur, tag)
	if err != nil || r.Clean {
		return r, err
	}
	busy := r.OtherCPUPct >= busyOther
	if !busy && (b.quick || !search) {
		return r, nil
	}
	why := "a step that is not clean is tried twice"
	if busy {
		why = fmt.Sprintf("other work on the host used %.0f%% of a core during it", r.OtherCPUPct)
	}
	fmt.Printf("   (%s: running it again)\n", why)
	r2, err := b.step(w, s, rate, dur, tag+"-again")
	if err != nil {
		return nil, err
	}
	r2.FirstAttempt = r
	r2.Note = fmt.Sprintf("second attempt: the first was not clean (%s); %s", r.Why, why)
	return r2, nil
}

// step runs one SIPp run against a freshly started server.
func (b *bench) step(w workload, s *server, rate int, dur time.Duration, tag string) (*runResult, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	timeout := dur + 15*time.Second
	if b.quick {
		timeout = dur + 6*time.Second
	}
	// Server start and stop take a few seconds on top of the run.
	if spent := time.Since(b.started); spent+dur+5*time.Second > b.sipBudget {
		return nil, fmt.Errorf("%w: %v spent of %v: %s at %d/s and later runs skipped", errBudget, spent.Round(time.Second), b.sipBudget, tag, rate)
	}
	dir := filepath.Join(b.workDir, fmt.Sprintf("%s-%s-%s-%d", w.Name, s.Name, tag, rate))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, a := range []struct {
		ip   string
		port int
	}{{s.IP, serverPort}, {s.SIPpIP, sippPort}, {s.UASIP, uasPort}} {
		if portBusy(a.ip, a.port) {
			return nil, fmt.Errorf("UDP %s:%d is already in use (a process left from an earlier run?)", a.ip, a.port)
		}
	}

	b.waitQuiet()
	srv, err := s.start(b, s, w, dir)
	if err != nil {
		return nil, err
	}
	defer srv.stop(5 * time.Second)
	if err := waitOptions(s.SIPpIP, fmt.Sprintf("%s:%d", s.IP, serverPort), srv, 15*time.Second); err != nil {
		return nil, fmt.Errorf("%s not ready: %w\n%s", s.Label, err, tailFile(srv.log, 3000))
	}
	// Let Kamailio's workers and gopbx settle after the probe.
	time.Sleep(300 * time.Millisecond)

	users := ""
	if w.Users {
		if users, err = writeFile(dir, "users.csv", usersCSV()); err != nil {
			return nil, err
		}
	}
	calls := int(float64(rate) * dur.Seconds())
	argv := sippArgs(b.sipp, filepath.Join(b.benchDir, "scenarios", w.Scenario),
		fmt.Sprintf("%s:%d", s.IP, serverPort), s.SIPpIP, sippPort, rate, calls, timeout, users)
	if w.Service != "" {
		argv = append(argv, "-s", w.Service)
	}
	if w.Hold > 0 {
		argv = append(argv, "-d", fmt.Sprint(w.Hold.Milliseconds()))
	}

	// The callee behind the server, for calls.
	var uas *proc
	if w.UASScenario != "" {
		udir := filepath.Join(dir, "uas")
		if err := os.MkdirAll(udir, 0o755); err != nil {
			return nil, err
		}
		uargv := sippUASArgs(b.sipp, filepath.Join(b.benchDir, "scenarios", w.UASScenario), s.UASIP, uasPort, calls)
		if uas, err = startProc("sipp-uas", udir, filepath.Join(udir, "sipp.log"), uargv...); err != nil {
			return nil, err
		}
		defer uas.stop(2 * time.Second)
		setNice(uas.pid(), b.sippNice)
		if err := waitBound(s.UASIP, uasPort, uas, 5*time.Second); err != nil {
			return nil, err
		}
	}

	pgid := srv.pid()
	watch := startSampler(map[string]string{
		"server": fmt.Sprintf("%s:%d", s.IP, serverPort),
		"sipp":   fmt.Sprintf("%s:%d", s.SIPpIP, sippPort),
		"uas":    fmt.Sprintf("%s:%d", s.UASIP, uasPort),
	})
	snmp0 := udpSNMP()
	cpu0, self0 := groupCPU(pgid), selfCPU()
	t0 := time.Now()
	fmt.Printf("   %-8s %6d/s  %s ... ", s.Label, rate, tag)
	sr, serr := runSIPp(dir, argv, timeout+10*time.Second, b.sippNice)
	wall := time.Since(t0)
	cpu1, self1 := groupCPU(pgid), selfCPU()
	mem := groupMemory(pgid)
	ours := []int{pgid, sr.PID}
	if uas != nil {
		ours = append(ours, uas.pid())
	}
	socks, split := watch.finish(ours...)
	snmp1 := udpSNMP()
	var ur uasRun
	if uas != nil {
		// The callee is stopped (it would linger 4 s for retransmitted
		// BYEs); its CPU is its whole life's (rusage).
		ur = finishUAS(uas, filepath.Join(dir, "uas"), time.Second)
	}
	alive := !srv.exited()
	if serr != nil {
		fmt.Println("error")
		return nil, serr
	}

	r := &runResult{
		Refused: sippRefusals(filepath.Join(dir, "errors.log")),
		Target:  rate, Duration: dur.Seconds(), Calls: calls,
		Successful: sr.Successful, Failed: sr.Failed, Retrans: sr.Retrans,
		SIPpExit: sr.ExitCode, SIPpKilled: sr.Killed,
		Elapsed:       sr.Elapsed.Seconds(),
		ServerCPU:     (cpu1 - cpu0).Seconds(),
		SIPpCPU:       (sr.CPU + ur.CPU).Seconds(),
		UASFailed:     ur.Failed,
		UASDrops:      socks["uas"].Drops,
		ServerProcs:   mem.Procs,
		PeakRSSMB:     float64(mem.HWMKB) / 1024,
		PSSMB:         float64(mem.PSSKB) / 1024,
		ServerDrops:   socks["server"].Drops,
		SIPpDrops:     socks["sipp"].Drops,
		ServerRxQueue: socks["server"].RxQueue,
		HostRcvbufErr: snmp1["RcvbufErrors"] - snmp0["RcvbufErrors"],
		ServerAlive:   alive,
		RTT:           sr.RTT,
	}
	if r.Elapsed <= 0 {
		r.Elapsed = wall.Seconds()
	}
	// Calls are started during the first Elapsed - Hold seconds.
	r.Achieved = float64(r.Successful) / max(r.Elapsed-w.Hold.Seconds(), 0.001)
	if r.Successful > 0 {
		r.CPUmsPerOp = r.ServerCPU * 1000 / float64(r.Successful)
	}
	r.ServerCPUPct = 100 * r.ServerCPU / wall.Seconds()
	r.SIPpCPUPct = 100 * r.SIPpCPU / wall.Seconds()
	r.UASCPUPct = 100 * ur.CPU.Seconds() / wall.Seconds()
	// Everything that ran on the machine during the run, in "% of one
	// core": what was neither the server, SIPp nor sipbench is other work
	// on the host (it competes for the same cores) or kernel threads.
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	r.OtherCPUPct = pct(split.Other)
	r.KernelCPUPct = pct(split.Kernel)
	r.SelfCPUPct = pct(self1 - self0)
	r.MachineCPUPct = r.ServerCPUPct + r.SIPpCPUPct + r.SelfCPUPct + r.OtherCPUPct + r.KernelCPUPct
	if s.afterRun != nil {
		// Stop the server first: it may still be draining its queue, and
		// a reader's lock on kamailio-db's SQLite file would fail its
		// writes (db_sqlite has no busy timeout).
		srv.stop(5 * time.Second)
		s.afterRun(b, dir, r)
	}
	r.judge()
	fmt.Println(r.oneLine())
	return r, nil
}

// busyOther is how much CPU (% of one core) other work on the host may use
// before a run waits for it or is repeated.
const busyOther = 25

// waitQuiet waits, up to 10 s, until the processes on the host that are not
// sipbench's use less than busyOther of a core over one second.
func (b *bench) waitQuiet() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		smp := startSampler(nil)
		select {
		case <-b.ctx.Done():
		case <-time.After(700 * time.Millisecond):
		}
		_, split := smp.finish()
		busy := 100 * (split.Other + split.Kernel).Seconds() / 0.7
		if busy < busyOther || b.ctx.Err() != nil {
			return
		}
		if time.Now().After(deadline) {
			fmt.Printf("   (other work on the host still uses %.0f%% of a core: going on)\n", busy)
			return
		}
		fmt.Printf("   (other work on the host uses %.0f%% of a core: waiting)\n", busy)
	}
}

// judge decides whether a run was clean and, if not, what limited it.
func (r *runResult) judge() {
	total := r.Successful + r.Failed
	var why []string
	if total == 0 {
		why = append(why, "no call completed")
	} else if float64(r.Failed)/float64(r.Calls) > maxFailedRatio {
		why = append(why, fmt.Sprintf("%.2f%% failed", 100*float64(r.Failed)/float64(r.Calls)))
	}
	if unfinished := int64(r.Calls) - total; unfinished > int64(float64(r.Calls)*maxFailedRatio) {
		why = append(why, fmt.Sprintf("%d calls unfinished", unfinished))
	}
	if r.Achieved < minAchieved*float64(r.Target) {
		why = append(why, fmt.Sprintf("achieved %.0f%% of the target rate", 100*r.Achieved/float64(r.Target)))
	}
	if r.SIPpKilled {
		why = append(why, "SIPp killed after its timeout")
	}
	if !r.ServerAlive {
		why = append(why, "server exited")
	}
	r.Clean = len(why) == 0
	r.Why = strings.Join(why, ", ")

	// What limited the run: the first matching cause, most direct first.
	ncpu := float64(runtime.NumCPU())
	switch {
	case !r.ServerAlive:
		r.Limit = "server exited"
	case r.Clean:
		r.Limit = ""
	default:
		var c []string
		if u := r.UsrlocDB; u != nil && u.FailedWrites > 0 {
			// kamailio-db: usrloc's write failed, the registrar answered 500.
			c = append(c, fmt.Sprintf("%d SQLite writes of usrloc failed (%s)", u.FailedWrites, dbErrorCause(u.FirstError)))
		}
		if len(r.Refused) > 0 {
			c = append(c, "the server refused calls: "+refusalText(r.Refused))
		}
		if r.ServerDrops > 0 {
			c = append(c, fmt.Sprintf("server socket dropped %d datagrams", r.ServerDrops))
		}
		if r.SIPpDrops > 0 {
			c = append(c, fmt.Sprintf("SIPp socket dropped %d datagrams", r.SIPpDrops))
		}
		if r.UASDrops > 0 {
			c = append(c, fmt.Sprintf("SIPp callee's socket dropped %d datagrams", r.UASDrops))
		}
		cpu := fmt.Sprintf("server %.0f%%, SIPp %.0f%%, machine %.0f%% of %d00%%", r.ServerCPUPct, r.SIPpCPUPct, r.MachineCPUPct, int(ncpu))
		if r.OtherCPUPct >= 10 {
			cpu += fmt.Sprintf(" with %.0f%% other work on the host", r.OtherCPUPct)
		}
		switch {
		case r.MachineCPUPct >= 90*ncpu:
			c = append(c, "machine CPU saturated ("+cpu+")")
		case r.SIPpCPUPct >= 90:
			c = append(c, "SIPp CPU ("+cpu+")")
		case len(c) == 0:
			c = append(c, fmt.Sprintf("no socket drops and the CPUs not saturated over the run (%s), yet responses took %.0f ms on average: the server queued requests", cpu, r.RTT.Mean))
		default:
			c = append(c, cpu)
		}
		r.Limit = strings.Join(c, "; ")
	}
}
