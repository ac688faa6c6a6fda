package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Media workloads (issue 7, 1.3 and 1.4): calls through gopbx with its
// anchored media, set up by the Go UAC/UAS of ua.go, with G.711 RTP from
// the generator of rtpgen.go (kind rtp) or no RTP at all (kind held).
// Every figure about gopbx comes from /proc/PID (CPU, RSS, fds, threads)
// and its pprof listener (goroutines).

const (
	kindRTP  = "rtp"
	kindHeld = "held"
)

// Media addresses: gopbx on .161 (SIP 5060, RTP from rtp.conf's range,
// pprof on TCP 6061), the caller on .162, the callee on .163.
var (
	mediaServer    = netip.MustParseAddrPort("127.0.0.161:5060")
	mediaPprof     = "127.0.0.161:6061"
	mediaCallerSIP = netip.MustParseAddrPort("127.0.0.162:5070")
	mediaCallerRTP = netip.MustParseAddrPort("127.0.0.162:40000")
	mediaCalleeSIP = netip.MustParseAddrPort("127.0.0.163:5080")
	mediaCalleeRTP = netip.MustParseAddrPort("127.0.0.163:40000")
	mediaProbeIP   = "127.0.0.164"
)

// Clean RTP steps also need the window's relayed rate at minRelayed of the
// sent rate and, for relayed (stamped) packets, p99 latency at most
// maxLatencyP99 ms.
const (
	minRelayed    = 0.97
	maxLatencyP99 = 100
)

// Each call is two anchored legs, each an RTP and an RTCP socket: 4 ports
// and 4 descriptors in gopbx (none with direct media: workload.mediaPorts).
// fdReserve is what gopbx holds without calls (about 20) with a margin.
const (
	portsPerCall = 4
	fdReserve    = 64
)

// mediaRun is one step of a media workload: N calls up at once.
type mediaRun struct {
	Calls       int     `json:"calls"` // target
	Established int     `json:"established"`
	Failed      int     `json:"failed"`
	SetupS      float64 `json:"setup_s"`
	SetupPerS   float64 `json:"setup_calls_per_s"`
	FirstError  string  `json:"first_error,omitempty"`

	// RTP (kind rtp): over the measurement window.
	WindowS       float64 `json:"window_s,omitempty"`
	TargetPPS     float64 `json:"target_packets_per_s,omitempty"` // 2 directions x 50 x calls
	SentPPS       float64 `json:"sent_packets_per_s,omitempty"`
	RelayedPPS    float64 `json:"relayed_packets_per_s,omitempty"` // received back at both ends
	Sent          uint64  `json:"sent_total,omitempty"`            // whole run, both directions
	Received      uint64  `json:"received_total,omitempty"`
	LossFwdPct    float64 `json:"loss_caller_to_callee_pct"`
	LossRevPct    float64 `json:"loss_callee_to_caller_pct"`
	LossPct       float64 `json:"loss_pct"`
	CPUmsPer1000  float64 `json:"server_cpu_ms_per_1000_packets,omitempty"`
	ServerCPUPct  float64 `json:"server_cpu_pct"`
	GenCPUPct     float64 `json:"generator_cpu_pct"` // sipbench: RTP generator, UAC and UAS
	OtherCPUPct   float64 `json:"other_cpu_pct"`
	KernelCPUPct  float64 `json:"kernel_threads_cpu_pct"`
	MachineCPUPct float64 `json:"machine_cpu_pct"`
	LateSlots     uint64  `json:"generator_late_slots,omitempty"` // send slots started over 20 ms late
	// One-way latency through gopbx in the window (relayed packets keep
	// the generator's send stamp; transcoded ones do not), in ms, 1 ms
	// resolution: p50 1 means under 1 ms.
	LatencyN     uint64  `json:"latency_packets,omitempty"`
	LatencyP50   float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99   float64 `json:"latency_p99_ms,omitempty"`
	LatencyMax   float64 `json:"latency_max_ms,omitempty"`
	ServerDrops  int64   `json:"server_udp_drops"`
	GenDrops     int64   `json:"generator_udp_drops"`
	RcvbufErrors int64   `json:"host_udp_rcvbuf_errors"`

	// Memory and handles: before the calls (0) and with them up.
	RSS0KB      int64   `json:"rss_idle_kb"`
	RSSKB       int64   `json:"rss_kb"`
	HWMKB       int64   `json:"peak_rss_kb"`
	KBPerCall   float64 `json:"kb_per_call"`
	FDs0        int     `json:"fds_idle"`
	FDs         int     `json:"fds"`
	Goroutines0 int     `json:"goroutines_idle"`
	Goroutines  int     `json:"goroutines"`
	Threads     int     `json:"threads"`
	ServerAlive bool    `json:"server_alive"`
	HungUp      int     `json:"hung_up_by_gopbx,omitempty"`
	// InKernel is the bridges nftables forwarded at the window's end
	// (kernelforward workloads).
	InKernel int `json:"bridges_in_kernel,omitempty"`

	Clean bool   `json:"clean"`
	Why   string `json:"not_clean_because,omitempty"`
	Limit string `json:"limit,omitempty"`
	Note  string `json:"note,omitempty"`

	profile string // top of gopbx's CPU profile, when taken
}

// mediaResult is a media workload on gopbx: its steps and what ended them.
type mediaResult struct {
	Runs      []*mediaRun `json:"runs"`
	BestCalls int         `json:"max_clean_calls"`
	Limit     string      `json:"limit"`
	RTPRange  string      `json:"rtp_range"`
	// PortsPerCall is the UDP ports (and descriptors) gopbx opens per
	// call: 4 anchored; 0 with direct media, and then Capacity and
	// FDCalls are 0: no limit.
	PortsPerCall int    `json:"ports_per_call"`
	Capacity     int    `json:"calls_the_port_range_holds"`
	FDLimit      uint64 `json:"fd_limit"`
	FDCalls      int    `json:"calls_the_fd_limit_holds"`
	Profile      string `json:"cpu_profile_top,omitempty"`
}

// kernelTable is the nftables table of the kernelforward workloads.
const kernelTable = "gopbxbench"

// kernelBridges counts the bridges in gopbx's nftables map: two entries
// (one per direction) each; -1 when nft cannot list it.
func kernelBridges() int {
	out, err := exec.Command("nft", "list", "map", "ip", kernelTable, "rtpdst").Output()
	if err != nil {
		return -1
	}
	return strings.Count(string(out), " : ") / 2
}

// mediaRange is the rtp.conf range of a workload: the widest one for held
// calls (one address holds (65535-1024+1)/4 = 16,128 calls).
func mediaRange(w workload) (int, int) {
	if w.Kind == kindHeld {
		return 1024, 65535
	}
	return 10000, 60000
}

func rangeCapacity(start, end int) int {
	if start%2 == 1 {
		start++
	}
	return (end - start + 1) / 2 / 2
}

// raiseNoFile lifts sipbench's RLIMIT_NOFILE (soft and, as root, hard) so
// that gopbx, which raises its soft limit only up to the hard one it
// inherits, can hold every socket of the largest step.
func raiseNoFile(want uint64) uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = min(want, n)
		}
	}
	if lim.Max < want {
		nl := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl) == nil {
			return want
		}
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

func mediaConf(w workload, start, end int) map[string]string {
	callerAllow, calleeAllow := "ulaw", "ulaw"
	if w.Transcode {
		calleeAllow = "alaw"
	}
	kernel := ""
	if w.KernelForward {
		kernel = "kernelforward=yes\nkerneltable=" + kernelTable + "\n"
	}
	direct := "no"
	if w.DirectMedia {
		direct = "yes" // both ends: gopbx passes SDP through, no RTP sockets
	}
	pjsip := fmt.Sprintf(`; gopbx media benchmark configuration, written by bench/cmd/sipbench
[global]
type=global
user_agent=gopbx-bench

[transport-udp]
type=transport
protocol=udp
bind=%[1]s

[caller]
type=endpoint
context=bench
disallow=all
allow=%[2]s
direct_media=%[6]s

[caller]
type=identify
endpoint=caller
match=%[4]s

[callee]
type=endpoint
context=bench
disallow=all
allow=%[3]s
direct_media=%[6]s
aors=callee

[callee]
type=aor
contact=sip:callee@%[5]s
`, mediaServer, callerAllow, calleeAllow, mediaCallerSIP.Addr(), mediaCalleeSIP, direct)
	return map[string]string{
		"pjsip.conf":      pjsip,
		"gopbx.conf":      fmt.Sprintf("; written by bench/cmd/sipbench\n[security]\ninvite_rate = 0\nban_ignore = %s/24\n", mediaCallerSIP.Addr()),
		"extensions.conf": "; written by bench/cmd/sipbench\n[bench]\nexten => 100,1,Dial(PJSIP/callee,10)\n same => n,Hangup()\n",
		"rtp.conf":        fmt.Sprintf("; written by bench/cmd/sipbench\n[general]\nrtpstart=%d\nrtpend=%d\n%s", start, end, kernel),
	}
}

func (b *bench) startGopbxMedia(w workload, dir string) (*proc, error) {
	conf, data := filepath.Join(dir, "conf"), filepath.Join(dir, "data")
	for _, d := range []string{conf, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	start, end := mediaRange(w)
	for name, text := range mediaConf(w, start, end) {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	return startProc("gopbx", dir, filepath.Join(dir, "gopbx.log"), b.gopbx, "-C", conf, "-data", data, "-pprof", mediaPprof)
}

// ---- gopbx probes ----

type procSnap struct {
	rssKB, hwmKB int64
	fds          int
	goroutines   int
	threads      int
}

func snapGopbx(pid int) procSnap {
	st := fmt.Sprintf("/proc/%d/status", pid)
	s := procSnap{rssKB: statusKB(st, "VmRSS"), hwmKB: statusKB(st, "VmHWM"), threads: int(statusKB(st, "Threads"))}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = len(ents)
	}
	s.goroutines = goroutines()
	return s
}

// goroutines reads the total of gopbx's goroutine profile.
func goroutines() int {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + mediaPprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total ")))
	if err != nil {
		return -1
	}
	return n
}

// forceGC makes gopbx collect (the heap profile's gc=1) so that the RSS
// read next holds live memory, not garbage waiting for the next cycle.
func forceGC() {
	c := http.Client{Timeout: 20 * time.Second}
	if resp, err := c.Get("http://" + mediaPprof + "/debug/pprof/heap?gc=1"); err == nil {
		resp.Body.Close()
	}
}

// udpDropsOn sums the drop counters of every UDP socket bound to ip.
func udpDropsOn(ip string) int64 {
	pre := udpKey(ip, 0)
	pre = pre[:strings.IndexByte(pre, ':')+1]
	var n int64
	for k, s := range readProcNetUDP() {
		if strings.HasPrefix(k, pre) {
			n += s.Drops
		}
	}
	return n
}

// ---- the driver ----

// mediaSetup places n calls through gopbx at rate calls/s (at most
// `window` INVITEs outstanding) and returns gopbx's RTP address of every
// caller leg and every callee leg.
func mediaSetup(ctx context.Context, u *uac, n, rate int) (callers []netip.AddrPort, failed int, firstErr string, took time.Duration) {
	const window = 400
	sem := make(chan struct{}, window)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var nfail atomic.Int64
	t0 := time.Now()
	for i := range n {
		if d := time.Until(t0.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := u.call(ctx, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				nfail.Add(1)
				if firstErr == "" {
					firstErr = err.Error()
				}
				return
			}
			callers = append(callers, c.RTP)
		}()
	}
	wg.Wait()
	return callers, int(nfail.Load()), firstErr, time.Since(t0)
}

// measureMedia runs a media workload's steps on gopbx: for kind rtp a
// fresh gopbx per step (stopping at the first step that is not clean), for
// kind held one gopbx and a ramp measured at each step.
func (b *bench) measureMedia(w workload, sr *serverResult) error {
	if _, err := os.Stat(b.gopbx); err != nil {
		return fmt.Errorf("gopbx binary: %w (run make build)", err)
	}
	steps := w.steps(b.quick)
	if len(b.stepsOverride) > 0 {
		steps = b.stepsOverride
	}
	dur := w.duration(b.quick)
	if b.durOverride > 0 {
		dur = b.durOverride
	}
	start, end := mediaRange(w)
	mr := &mediaResult{RTPRange: fmt.Sprintf("%d-%d", start, end), PortsPerCall: w.mediaPorts()}
	sr.Media = mr
	mr.FDLimit = raiseNoFile(uint64(mr.PortsPerCall*steps[len(steps)-1] + 4096))
	if mr.PortsPerCall > 0 {
		mr.Capacity = rangeCapacity(start, end)
		mr.FDCalls = int(mr.FDLimit-fdReserve) / mr.PortsPerCall
		fmt.Printf("\n== %s on gopbx (%s per step; rtp.conf %s holds %d calls, RLIMIT_NOFILE %d about %d)\n", w.Title, dur, mr.RTPRange, mr.Capacity, mr.FDLimit, mr.FDCalls)
	} else {
		fmt.Printf("\n== %s on gopbx (%s per step; direct media: no RTP ports or descriptors per call, RLIMIT_NOFILE %d)\n", w.Title, dur, mr.FDLimit)
	}
	if w.Kind == kindHeld {
		return b.heldRamp(w, mr, steps, dur)
	}
	for i, n := range steps {
		r, err := b.rtpStep(w, n, dur, fmt.Sprintf("step%d", i))
		if err == nil && !r.Clean && r.OtherCPUPct >= busyOther {
			// Other work on the host took the cores: that says nothing
			// about gopbx, so the step is tried once more.
			fmt.Printf("   (other work on the host used %.0f%% of a core during it: running it again)\n", r.OtherCPUPct)
			var r2 *mediaRun
			if r2, err = b.rtpStep(w, n, dur, fmt.Sprintf("step%d-again", i)); err == nil {
				r2.Note = fmt.Sprintf("second attempt: the first was not clean (%s) with %.0f%% of a core of other work", r.Why, r.OtherCPUPct)
				r = r2
			}
		}
		if err != nil {
			if errors.Is(err, errBudget) {
				mr.Limit = "not reached: the time budget ended the stepping"
			}
			return err
		}
		mr.Runs = append(mr.Runs, r)
		if r.profile != "" {
			mr.Profile = fmt.Sprintf("%s calls, %s:\n%s", thousands(float64(n)), r.oneLineRTP(), r.profile)
		}
		if !r.Clean {
			mr.Limit = fmt.Sprintf("%s calls: %s (%s)", thousands(float64(n)), r.Why, r.Limit)
			return nil
		}
		mr.BestCalls = n
	}
	mr.Limit = "not reached: the highest step was clean"
	return nil
}

// mediaReserve is the part of the time budget the media loads get (the
// SIPp loads must leave it); their steps are sized to fit. Of it, the
// direct-media held ramp takes about 50 s (8 s quick): 20,000 calls set
// up at 1,000/s, 4 steps of 3 s hold and a 2 s reading, gopbx's start.
func mediaReserve(quick bool) time.Duration {
	if quick {
		return 28 * time.Second
	}
	return 3*time.Minute + 50*time.Second
}

// mediaMargin is what starting and stopping gopbx and the generator adds
// to a media step (quick mode skips the wait for a quiet host).
func (b *bench) mediaMargin() time.Duration {
	if b.quick {
		return 4 * time.Second
	}
	return 8 * time.Second
}

// mediaBudget checks the time budget before a media step of about d.
func (b *bench) mediaBudget(d time.Duration, what string) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	if spent := time.Since(b.started); spent+d > b.budget {
		return fmt.Errorf("%w: %v spent of %v: %s and later runs skipped", errBudget, spent.Round(time.Second), b.budget, what)
	}
	return nil
}

// mediaEnv is gopbx, the UAC and the UAS of one media run.
type mediaEnv struct {
	srv    *proc
	caller *uac
	callee *uas
	snap0  procSnap
}

func (b *bench) startMediaEnv(w workload, dir string, tag string) (*mediaEnv, error) {
	for _, a := range []netip.AddrPort{mediaServer, mediaCallerSIP, mediaCalleeSIP, mediaCallerRTP, mediaCalleeRTP} {
		if portBusy(a.Addr().String(), int(a.Port())) {
			return nil, fmt.Errorf("UDP %s is already in use (a process left from an earlier run?)", a)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !b.quick {
		b.waitQuiet() // quick mode has no time for it: its figures are a smoke test
	}
	e := &mediaEnv{}
	var err error
	if e.srv, err = b.startGopbxMedia(w, dir); err != nil {
		return nil, err
	}
	if err := waitOptions(mediaProbeIP, mediaServer.String(), e.srv, 15*time.Second); err != nil {
		e.close()
		return nil, fmt.Errorf("gopbx not ready: %w\n%s", err, tailFile(e.srv.log, 3000))
	}
	pt := 0
	if w.Transcode {
		pt = 8
	}
	if e.callee, err = newUAS(mediaCalleeSIP, mediaCalleeRTP, pt); err != nil {
		e.close()
		return nil, err
	}
	if e.caller, err = newUAC(mediaCallerSIP, mediaServer, mediaCallerRTP, 0, tag); err != nil {
		e.close()
		return nil, err
	}
	time.Sleep(300 * time.Millisecond)
	forceGC()
	time.Sleep(200 * time.Millisecond)
	e.snap0 = snapGopbx(e.srv.pid())
	return e, nil
}

func (e *mediaEnv) close() {
	if e.caller != nil {
		e.caller.close()
	}
	if e.callee != nil {
		e.callee.close()
	}
	// gopbx is stopped with its calls up: tearing 10,000 calls down would
	// measure nothing and cost time.
	e.srv.stop(5 * time.Second)
}

// setup places n calls and fills r's setup and memory figures.
func (e *mediaEnv) setup(ctx context.Context, r *mediaRun, n, rate int) []netip.AddrPort {
	callers, failed, firstErr, took := mediaSetup(ctx, e.caller, n, rate)
	r.Established, r.Failed, r.FirstError = len(callers), failed, firstErr
	r.SetupS = took.Seconds()
	r.SetupPerS = float64(n) / took.Seconds()
	return callers
}

func (e *mediaEnv) memory(r *mediaRun, gc bool) {
	if gc {
		forceGC()
		time.Sleep(time.Second)
	}
	s := snapGopbx(e.srv.pid())
	r.RSS0KB, r.RSSKB, r.HWMKB = e.snap0.rssKB, s.rssKB, s.hwmKB
	r.FDs0, r.FDs = e.snap0.fds, s.fds
	r.Goroutines0, r.Goroutines, r.Threads = e.snap0.goroutines, s.goroutines, s.threads
	if r.Established > 0 {
		r.KBPerCall = float64(r.RSSKB-r.RSS0KB) / float64(r.Established)
	}
	r.ServerAlive = !e.srv.exited()
}

// rtpStep runs one step of an RTP workload: n calls, then RTP both ways
// for a warm-up second and the measurement window dur.
func (b *bench) rtpStep(w workload, n int, dur time.Duration, tag string) (*mediaRun, error) {
	setup := time.Duration(float64(n)/float64(w.SetupRate)*float64(time.Second)) + dur + b.mediaMargin()
	if err := b.mediaBudget(setup, fmt.Sprintf("%s with %d calls", tag, n)); err != nil {
		return nil, err
	}
	dir := filepath.Join(b.workDir, fmt.Sprintf("%s-gopbx-%s-%d", w.Name, tag, n))
	e, err := b.startMediaEnv(w, dir, fmt.Sprintf("%s-%s-%d", w.Name, tag, os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer e.close()
	if w.KernelForward {
		// gopbx removes its tables (ip and ip6) on a clean stop, not when
		// killed with its calls up: an empty table would still look up
		// every UDP packet of the host.
		defer func() {
			for _, family := range []string{"ip", "ip6"} {
				_ = exec.Command("nft", "delete", "table", family, kernelTable).Run()
			}
		}()
	}
	r := &mediaRun{Calls: n}
	fmt.Printf("   gopbx %6d calls %s ... ", n, tag)
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(n/w.SetupRate+40)*time.Second)
	defer cancel()
	callers := e.setup(ctx, r, n, w.SetupRate)
	callees := e.callee.remotes()
	if b.ctx.Err() != nil {
		return nil, b.ctx.Err()
	}

	// The generator: a sender per socket; two sockets per side use both
	// cores without taking more than the load needs.
	pt := uint8(0)
	if w.Transcode {
		pt = 8
	}
	epoch := time.Now()
	ca, err := listenRTPSide(mediaCallerRTP, 2, 0, epoch)
	if err != nil {
		return nil, err
	}
	defer ca.close()
	ce, err := listenRTPSide(mediaCalleeRTP, 2, pt, epoch)
	if err != nil {
		return nil, err
	}
	defer ce.close()
	sctx, stop := context.WithCancel(b.ctx)
	defer stop()
	ca.stream(sctx, callers)
	ce.stream(sctx, callees)

	// Warm-up, then the window.
	time.Sleep(w.warmUp())
	pid := e.srv.pid()
	watch := startSampler(nil)
	snmp0 := udpSNMP()
	cpu0, self0 := groupCPU(pid), selfCPU()
	sent0, recv0 := ca.sentTotal()+ce.sentTotal(), ca.received()+ce.received()
	lat0 := append(ca.latency(), ce.latency()...)
	t0 := time.Now()
	prof := ""
	if b.mediaProfileCalls > 0 && n == b.mediaProfileCalls {
		prof = b.cpuProfile(dir, dur)
	} else {
		select {
		case <-time.After(dur):
		case <-b.ctx.Done():
		}
	}
	wall := time.Since(t0)
	cpu1, self1 := groupCPU(pid), selfCPU()
	sent1, recv1 := ca.sentTotal()+ce.sentTotal(), ca.received()+ce.received()
	lat := latencyOf(lat0, append(ca.latency(), ce.latency()...))
	_, split := watch.finish(pid)
	r.ServerDrops = udpDropsOn(mediaServer.Addr().String())
	r.GenDrops = udpDropsOn(mediaCallerRTP.Addr().String()) + udpDropsOn(mediaCalleeRTP.Addr().String())
	e.memory(r, false)
	if w.KernelForward {
		r.InKernel = kernelBridges()
	}
	stop()
	time.Sleep(300 * time.Millisecond) // in flight
	r.RcvbufErrors = udpSNMP()["RcvbufErrors"] - snmp0["RcvbufErrors"]
	if b.ctx.Err() != nil {
		return nil, b.ctx.Err()
	}

	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	r.WindowS = wall.Seconds()
	r.TargetPPS = float64(2 * 50 * (len(callers) + 0))
	r.SentPPS = float64(sent1-sent0) / wall.Seconds()
	r.RelayedPPS = float64(recv1-recv0) / wall.Seconds()
	r.ServerCPUPct = pct(cpu1 - cpu0)
	r.GenCPUPct = pct(self1 - self0)
	r.OtherCPUPct, r.KernelCPUPct = pct(split.Other), pct(split.Kernel)
	r.MachineCPUPct = r.ServerCPUPct + r.GenCPUPct + r.OtherCPUPct + r.KernelCPUPct
	if recv1 > recv0 {
		r.CPUmsPer1000 = (cpu1 - cpu0).Seconds() * 1000 / (float64(recv1-recv0) / 1000)
	}
	r.LateSlots = ca.lateSlots() + ce.lateSlots()
	if lat.N > 0 {
		r.LatencyN, r.LatencyP50, r.LatencyP99, r.LatencyMax = lat.N, lat.P50, lat.P99, lat.Max
	}
	fwdSent, fwdRecv := ca.sentTotal(), ce.received()
	revSent, revRecv := ce.sentTotal(), ca.received()
	r.Sent, r.Received = fwdSent+revSent, fwdRecv+revRecv
	loss := func(s, rc uint64) float64 {
		if s == 0 {
			return 0
		}
		return 100 * (1 - float64(rc)/float64(s))
	}
	r.LossFwdPct, r.LossRevPct, r.LossPct = loss(fwdSent, fwdRecv), loss(revSent, revRecv), loss(r.Sent, r.Received)
	r.profile = prof
	r.HungUp = int(e.caller.byes.Load())
	r.judgeRTP(len(callees), w.KernelForward)
	fmt.Println(r.oneLineRTP())
	return r, nil
}

// cpuProfile takes gopbx's CPU profile over d and returns the top of it.
func (b *bench) cpuProfile(dir string, d time.Duration) string {
	path := filepath.Join(dir, "cpu.pprof")
	c := http.Client{Timeout: d + 20*time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", mediaPprof, int(d.Seconds())))
	if err != nil {
		return "profile: " + err.Error()
	}
	f, err := os.Create(path)
	if err == nil {
		_, err = f.ReadFrom(resp.Body)
		f.Close()
	}
	resp.Body.Close()
	if err != nil {
		return "profile: " + err.Error()
	}
	if b.mediaProfile != "" {
		_ = copyFile(path, b.mediaProfile)
	}
	if b.goBin == "" {
		return ""
	}
	top := cmdOutput(b.goBin, "tool", "pprof", "-top", "-nodecount=25", b.gopbx, path)
	// The header's file name and build ID say nothing in a report.
	var keep []string
	for _, l := range strings.Split(top, "\n") {
		if !strings.HasPrefix(l, "File:") && !strings.HasPrefix(l, "Build ID:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

func (r *mediaRun) judgeRTP(calleeLegs int, kernel bool) {
	var why []string
	if kernel && r.InKernel < r.Established {
		why = append(why, fmt.Sprintf("%d of %d bridges forwarded in the kernel", r.InKernel, r.Established))
	}
	if r.Failed > 0 || r.Established < r.Calls {
		why = append(why, fmt.Sprintf("%d of %d calls failed (%s)", r.Calls-r.Established, r.Calls, r.FirstError))
	}
	if r.HungUp > 0 {
		why = append(why, fmt.Sprintf("gopbx hung up %d calls", r.HungUp))
	}
	if calleeLegs != r.Established {
		why = append(why, fmt.Sprintf("callee saw %d calls, caller %d", calleeLegs, r.Established))
	}
	if r.LossPct > 100*maxFailedRatio || r.LossFwdPct > 100*maxFailedRatio || r.LossRevPct > 100*maxFailedRatio {
		why = append(why, fmt.Sprintf("%.3f%% packets lost (caller→callee %.3f%%, callee→caller %.3f%%)", r.LossPct, r.LossFwdPct, r.LossRevPct))
	}
	// A relay that falls behind builds a queue: packets arrive late, not
	// lost, once the load stops. So the window's throughput must keep up
	// with what was sent, and relayed packets (which carry a send stamp)
	// must not wait long: a hop taking 100 ms at p99 leaves little of
	// G.114's 150 ms one-way budget.
	if r.SentPPS > 0 && r.RelayedPPS < minRelayed*r.SentPPS {
		why = append(why, fmt.Sprintf("relayed %.0f%% of what was sent in the window (gopbx fell behind)", 100*r.RelayedPPS/r.SentPPS))
	}
	if r.LatencyN > 0 && r.LatencyP99 > maxLatencyP99 {
		why = append(why, fmt.Sprintf("latency p99 %g ms", r.LatencyP99))
	}
	genShort := r.TargetPPS > 0 && r.SentPPS < 0.99*r.TargetPPS
	if genShort {
		why = append(why, fmt.Sprintf("the generator sent %.0f%% of the target rate", 100*r.SentPPS/r.TargetPPS))
	}
	if !r.ServerAlive {
		why = append(why, "gopbx exited")
	}
	r.Clean = len(why) == 0
	r.Why = strings.Join(why, ", ")
	if r.Clean {
		return
	}
	ncpu := float64(runtime.NumCPU())
	cpu := fmt.Sprintf("gopbx %.0f%%, generator %.0f%%, kernel threads %.0f%%, machine %.0f%% of %d00%%", r.ServerCPUPct, r.GenCPUPct, r.KernelCPUPct, r.MachineCPUPct, int(ncpu))
	if r.OtherCPUPct >= 10 {
		cpu += fmt.Sprintf(" with %.0f%% other work", r.OtherCPUPct)
	}
	var c []string
	if r.ServerDrops > 0 {
		c = append(c, fmt.Sprintf("gopbx's RTP sockets dropped %d packets", r.ServerDrops))
	}
	if r.GenDrops > 0 {
		c = append(c, fmt.Sprintf("the generator's sockets dropped %d packets", r.GenDrops))
	}
	switch {
	case genShort:
		c = append(c, fmt.Sprintf("the generator could not keep up (%d send slots over 20 ms late; %s)", r.LateSlots, cpu))
	case r.MachineCPUPct >= 90*ncpu:
		c = append(c, "machine CPU saturated ("+cpu+")")
	default:
		c = append(c, cpu)
	}
	r.Limit = strings.Join(c, "; ")
}

func (r *mediaRun) oneLineRTP() string {
	lat := "n/a"
	if r.LatencyN > 0 {
		lat = fmt.Sprintf("%g/%g/%g ms", r.LatencyP50, r.LatencyP99, r.LatencyMax)
	}
	s := fmt.Sprintf("setup %.1fs; %7.0f pkt/s relayed of %7.0f, loss %.3f%%/%.3f%%, latency p50/p99/max %s, gopbx %.3f ms/1000 pkt %3.0f%%, gen %3.0f%%, kern %2.0f%%, machine %3.0f%%, rss %.0f MB, fds %d, goroutines %d, drops %d/%d",
		r.SetupS, r.RelayedPPS, r.TargetPPS, r.LossFwdPct, r.LossRevPct, lat, r.CPUmsPer1000, r.ServerCPUPct, r.GenCPUPct, r.KernelCPUPct, r.MachineCPUPct, float64(r.RSSKB)/1024, r.FDs, r.Goroutines, r.ServerDrops, r.GenDrops)
	if r.OtherCPUPct >= 5 {
		s += fmt.Sprintf(" (other work %.0f%%)", r.OtherCPUPct)
	}
	if r.InKernel > 0 {
		s += fmt.Sprintf(", %d bridges in the kernel", r.InKernel)
	}
	if r.Clean {
		return s + "  clean"
	}
	return s + "  NOT CLEAN: " + r.Why
}

// heldRamp ramps one gopbx up to each step's number of calls in turn,
// holds dur, and records memory and handles at every step.
func (b *bench) heldRamp(w workload, mr *mediaResult, steps []int, dur time.Duration) error {
	// Only the steps the port range and descriptors allow will run (with
	// direct media they limit nothing).
	fits := func(n int) bool {
		return mr.PortsPerCall == 0 || n <= min(mr.Capacity, mr.FDCalls)
	}
	nfit := 0
	for _, n := range steps {
		if fits(n) {
			nfit++
		}
	}
	// The first k steps take the setup of the k-th step's calls and every
	// step's hold and reading. When the whole ramp does not fit in the time
	// budget, its first steps that do still run.
	took := func(k int) time.Duration {
		return time.Duration(float64(steps[k-1])/float64(w.SetupRate)*float64(time.Second)) + time.Duration(k)*(dur+2*time.Second) + b.mediaMargin()
	}
	nrun := nfit
	for nrun > 1 && b.mediaBudget(took(nrun), "") != nil {
		nrun--
	}
	if nrun > 0 {
		if err := b.mediaBudget(took(nrun), "the held-call ramp"); err != nil {
			mr.Limit = "not run: the time budget was used up"
			return err
		}
	}
	dir := filepath.Join(b.workDir, w.Name+"-gopbx")
	e, err := b.startMediaEnv(w, dir, fmt.Sprintf("%s-%d", w.Name, os.Getpid()))
	if err != nil {
		return err
	}
	defer e.close()
	have := 0
	var prev *mediaRun
	for i, n := range steps {
		if mr.PortsPerCall > 0 && n > mr.Capacity {
			mr.Limit = fmt.Sprintf("%s calls not tried: rtp.conf %s holds %s calls on one address (%d ports per call)", thousands(float64(n)), mr.RTPRange, thousands(float64(mr.Capacity)), mr.PortsPerCall)
			return nil
		}
		if mr.PortsPerCall > 0 && n > mr.FDCalls {
			mr.Limit = fmt.Sprintf("%s calls not tried: RLIMIT_NOFILE %s (a hard limit sipbench cannot raise here) holds about %s calls at %d descriptors per call", thousands(float64(n)), thousands(float64(mr.FDLimit)), thousands(float64(mr.FDCalls)), mr.PortsPerCall)
			return nil
		}
		if i >= nrun {
			mr.Limit = fmt.Sprintf("not reached: the time budget ended the ramp (%s calls not tried)", thousands(float64(n)))
			fmt.Printf("   gopbx %6d held calls: not tried, the time budget ends the ramp\n", n)
			return nil
		}
		r := &mediaRun{Calls: n}
		fmt.Printf("   gopbx %6d held calls ... ", n)
		ctx, cancel := context.WithTimeout(b.ctx, time.Duration((n-have)/w.SetupRate+40)*time.Second)
		// The UAC numbers calls from have up: Call-IDs stay unique.
		callers, failed, firstErr, took := mediaSetupFrom(ctx, e.caller, have, n-have, w.SetupRate)
		cancel()
		if b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		r.Established = len(callers)
		if prev != nil {
			r.Established += prev.Established
		}
		r.Failed, r.FirstError = failed, firstErr
		r.SetupS, r.SetupPerS = took.Seconds(), float64(n-have)/took.Seconds()
		have = n
		select {
		case <-time.After(dur):
		case <-b.ctx.Done():
			return b.ctx.Err()
		}
		e.memory(r, true)
		if b.heldProfile != "" {
			if err := saveHeldProfiles(fmt.Sprintf("%s-%s-%d", b.heldProfile, w.Name, n)); err != nil {
				fmt.Printf("(profiles: %v) ", err)
			}
		}
		r.ServerDrops = udpDropsOn(mediaServer.Addr().String())
		r.HungUp = int(e.caller.byes.Load())
		r.Clean = r.Failed == 0 && r.Established == n && r.ServerAlive && r.HungUp == 0
		if !r.Clean {
			var why []string
			if r.Failed > 0 || r.Established < n {
				why = append(why, fmt.Sprintf("%d of %d calls up (%s)", r.Established, n, r.FirstError))
			}
			if r.HungUp > 0 {
				why = append(why, fmt.Sprintf("gopbx hung up %d calls", r.HungUp))
			}
			if !r.ServerAlive {
				why = append(why, "gopbx exited")
			}
			r.Why = strings.Join(why, ", ")
		}
		fmt.Printf("setup %.1fs (%.0f/s); rss %.0f MB (+%.1f KB per call), fds %d, goroutines %d, threads %d", r.SetupS, r.SetupPerS, float64(r.RSSKB)/1024, r.KBPerCall, r.FDs, r.Goroutines, r.Threads)
		if r.Clean {
			fmt.Println("  clean")
		} else {
			fmt.Println("  NOT CLEAN: " + r.Why)
		}
		mr.Runs = append(mr.Runs, r)
		prev = r
		if !r.Clean {
			mr.Limit = fmt.Sprintf("%s calls: %s", thousands(float64(n)), r.Why)
			return nil
		}
		mr.BestCalls = n
		if err := b.mediaBudget(time.Duration(float64(n)/float64(w.SetupRate)*float64(time.Second))+dur, "the rest of the held-call ramp"); err != nil {
			mr.Limit = "not reached: the time budget ended the ramp"
			return nil
		}
	}
	mr.Limit = "not reached: the highest step was clean"
	return nil
}

// saveHeldProfiles writes gopbx's heap profile (taken after a GC) to
// prefix.heap, the same as text with runtime.MemStats (stacks, heap
// overhead) to prefix.heap.txt and its goroutine dump (debug=1) to
// prefix.goroutines.
func saveHeldProfiles(prefix string) error {
	c := http.Client{Timeout: 60 * time.Second}
	for _, f := range []struct{ path, ext string }{{"heap?gc=1", ".heap"}, {"heap?debug=1", ".heap.txt"}, {"goroutine?debug=1", ".goroutines"}} {
		resp, err := c.Get("http://" + mediaPprof + "/debug/pprof/" + f.path)
		if err != nil {
			return err
		}
		out, err := os.Create(prefix + f.ext)
		if err == nil {
			_, err = out.ReadFrom(resp.Body)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		resp.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mediaSetupFrom is mediaSetup numbering the calls from first.
func mediaSetupFrom(ctx context.Context, u *uac, first, n, rate int) ([]netip.AddrPort, int, string, time.Duration) {
	base := u.tag
	u.tag = fmt.Sprintf("%s-from%d", base, first)
	defer func() { u.tag = base }()
	return mediaSetup(ctx, u, n, rate)
}
