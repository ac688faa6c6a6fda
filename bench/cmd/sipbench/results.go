package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// runResult is one SIPp run against a fresh server.
type runResult struct {
	Target     int     `json:"target_per_s"`
	Rep        int     `json:"rep,omitempty"` // 1..n for repetitions of the best step
	Duration   float64 `json:"duration_s"`
	Calls      int     `json:"calls"` // SIPp -m
	Successful int64   `json:"successful"`
	Failed     int64   `json:"failed"`
	Retrans    int64   `json:"retransmissions"`
	SIPpExit   int     `json:"sipp_exit"`
	SIPpKilled bool    `json:"sipp_killed,omitempty"`
	Elapsed    float64 `json:"elapsed_s"` // SIPp start to last statistics line
	Achieved   float64 `json:"achieved_per_s"`

	ServerCPU     float64 `json:"server_cpu_s"`
	ServerCPUPct  float64 `json:"server_cpu_pct"` // of one core, over the SIPp run
	CPUmsPerOp    float64 `json:"server_cpu_ms_per_op"`
	SIPpCPU       float64 `json:"sipp_cpu_s"`
	SIPpCPUPct    float64 `json:"sipp_cpu_pct"` // both SIPp processes for calls
	UASCPUPct     float64 `json:"sipp_uas_cpu_pct,omitempty"`
	UASFailed     int64   `json:"sipp_uas_failed,omitempty"`
	UASDrops      int64   `json:"sipp_uas_udp_drops,omitempty"`
	SelfCPUPct    float64 `json:"sipbench_cpu_pct"`
	OtherCPUPct   float64 `json:"other_cpu_pct"` // other user-space processes on the host
	KernelCPUPct  float64 `json:"kernel_threads_cpu_pct"`
	MachineCPUPct float64 `json:"machine_cpu_pct"` // all of the above, % of one core
	ServerProcs   int     `json:"server_processes"`
	PeakRSSMB     float64 `json:"peak_rss_mb"` // sum of VmHWM over the server's processes
	PSSMB         float64 `json:"pss_mb"`      // sum of PSS at the end of the run
	ServerDrops   int64   `json:"server_udp_drops"`
	// Refused counts the error responses SIPp aborted calls on, by status
	// line (its errors.log), e.g. "503 Service Unavailable".
	Refused       map[string]int `json:"server_refusals,omitempty"`
	SIPpDrops     int64          `json:"sipp_udp_drops"`
	ServerRxQueue int64          `json:"server_rx_queue_max_bytes"`
	HostRcvbufErr int64          `json:"host_udp_rcvbuf_errors"`
	ServerAlive   bool           `json:"server_alive"`
	RTT           rttStats       `json:"response_ms"`
	// UsrlocDB is what kamailio-db left in its SQLite file and log.
	UsrlocDB *usrlocDB `json:"usrloc_db,omitempty"`

	Clean bool   `json:"clean"`
	Why   string `json:"not_clean_because,omitempty"`
	Limit string `json:"limit,omitempty"`
	Note  string `json:"note,omitempty"`
	// FirstAttempt is the run this one replaced (other work on the host).
	FirstAttempt *runResult `json:"first_attempt,omitempty"`
}

func (r *runResult) oneLine() string {
	s := fmt.Sprintf("%8.0f/s ok=%d failed=%d retrans=%d srv %.3f ms/op %3.0f%% sipp %3.0f%% machine %3.0f%% rss %.0f MB drops %d/%d resp %.1f ms",
		r.Achieved, r.Successful, r.Failed, r.Retrans, r.CPUmsPerOp, r.ServerCPUPct, r.SIPpCPUPct, r.MachineCPUPct, r.PeakRSSMB, r.ServerDrops, r.SIPpDrops+r.UASDrops, r.RTT.Mean)
	if r.OtherCPUPct >= 5 {
		s += fmt.Sprintf(" (other work %.0f%%)", r.OtherCPUPct)
	}
	if r.Clean {
		return s + "  clean"
	}
	return s + "  NOT CLEAN: " + r.Why
}

// stat is min/median/max of one metric over the repetitions.
type stat struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func statOf(rs []*runResult, f func(*runResult) float64) stat {
	if len(rs) == 0 {
		return stat{}
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stat{v[0], med, v[len(v)-1]}
}

type serverResult struct {
	Server   string       `json:"server"`
	Label    string       `json:"label"`
	Steps    []*runResult `json:"steps"`
	Knee     *runResult   `json:"-"`
	BestRate int          `json:"max_clean_rate_per_s"`
	Limit    string       `json:"limit"` // what stopped the next step
	Reps     []*runResult `json:"repetitions"`
	Summary  *summary     `json:"summary,omitempty"`
	Error    string       `json:"error,omitempty"`
	Pending  string       `json:"pending,omitempty"`
	// Media holds a media workload's runs (its steps are calls, not rates).
	Media *mediaResult `json:"media,omitempty"`
	// Overload is one run at twice the max clean rate (workloads with
	// OverloadProbe, full mode): what gets through when the offered load is
	// well beyond capacity.
	Overload *runResult `json:"overload,omitempty"`
}

// summary is min/median/max over the repetitions of the best step.
type summary struct {
	Runs       int  `json:"runs"`
	CleanRuns  int  `json:"clean_runs"`
	Achieved   stat `json:"achieved_per_s"`
	CPUmsPerOp stat `json:"server_cpu_ms_per_op"`
	ServerCPU  stat `json:"server_cpu_pct"`
	SIPpCPU    stat `json:"sipp_cpu_pct"`
	MachineCPU stat `json:"machine_cpu_pct"`
	OtherCPU   stat `json:"other_cpu_pct"`
	PeakRSSMB  stat `json:"peak_rss_mb"`
	PSSMB      stat `json:"pss_mb"`
	Retrans    stat `json:"retransmissions"`
	Failed     stat `json:"failed"`
	SrvDrops   stat `json:"server_udp_drops"`
	SIPpDrops  stat `json:"sipp_udp_drops"`
	RTTMean    stat `json:"response_mean_ms"`
	RTTP50     stat `json:"response_p50_ms"`
	RTTP95     stat `json:"response_p95_ms"`
	RTTP99     stat `json:"response_p99_ms"`
}

func (sr *serverResult) summarise() {
	rs := sr.Reps
	s := &summary{Runs: len(rs)}
	for _, r := range rs {
		if r.Clean {
			s.CleanRuns++
		}
	}
	s.Achieved = statOf(rs, func(r *runResult) float64 { return r.Achieved })
	s.CPUmsPerOp = statOf(rs, func(r *runResult) float64 { return r.CPUmsPerOp })
	s.ServerCPU = statOf(rs, func(r *runResult) float64 { return r.ServerCPUPct })
	s.SIPpCPU = statOf(rs, func(r *runResult) float64 { return r.SIPpCPUPct })
	s.MachineCPU = statOf(rs, func(r *runResult) float64 { return r.MachineCPUPct })
	s.OtherCPU = statOf(rs, func(r *runResult) float64 { return r.OtherCPUPct })
	s.PeakRSSMB = statOf(rs, func(r *runResult) float64 { return r.PeakRSSMB })
	s.PSSMB = statOf(rs, func(r *runResult) float64 { return r.PSSMB })
	s.Retrans = statOf(rs, func(r *runResult) float64 { return float64(r.Retrans) })
	s.Failed = statOf(rs, func(r *runResult) float64 { return float64(r.Failed) })
	s.SrvDrops = statOf(rs, func(r *runResult) float64 { return float64(r.ServerDrops) })
	s.SIPpDrops = statOf(rs, func(r *runResult) float64 { return float64(r.SIPpDrops + r.UASDrops) })
	s.RTTMean = statOf(rs, func(r *runResult) float64 { return r.RTT.Mean })
	s.RTTP50 = statOf(rs, func(r *runResult) float64 { return r.RTT.P50 })
	s.RTTP95 = statOf(rs, func(r *runResult) float64 { return r.RTT.P95 })
	s.RTTP99 = statOf(rs, func(r *runResult) float64 { return r.RTT.P99 })
	sr.Summary = s
}

type workloadResult struct {
	Name     string          `json:"name"`
	Title    string          `json:"title"`
	Op       string          `json:"op"`
	Pending  string          `json:"pending,omitempty"`
	Baseline string          `json:"asterisk_recorded_elsewhere,omitempty"`
	Servers  []*serverResult `json:"servers,omitempty"`
	Kind     string          `json:"kind,omitempty"`
}

func (w *workloadResult) server(name string) *serverResult {
	for _, s := range w.Servers {
		if s.Server == name {
			return s
		}
	}
	return nil
}

type machine struct {
	NProc    int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	SIPp     string `json:"sipp"`
	Kamailio string `json:"kamailio"`
	Gopbx    string `json:"gopbx"`
	Commit   string `json:"commit"`
	MemMB    int64  `json:"mem_total_mb"`
}

type results struct {
	Date      string            `json:"date"`
	Mode      string            `json:"mode"`
	Elapsed   string            `json:"elapsed"`
	Machine   machine           `json:"machine"`
	Notes     []string          `json:"notes"`
	Addresses map[string]string `json:"addresses"`
	Workloads []*workloadResult `json:"workloads"`
	Asterisk  asteriskBaseline  `json:"asterisk_baseline_recorded_elsewhere"`
	Micro     *microResult      `json:"go_micro_benchmarks,omitempty"`
	// Merged says which workloads a later run (-merge) replaced or added.
	Merged []string `json:"merged,omitempty"`
}

// mergeResults loads an earlier results file and puts the workloads of
// the run now into it: replaced when it has them, added at the end if not.
// Header, notes and micro-benchmarks stay the earlier run's; Merged says
// which loads are from when.
func mergeResults(path string, now *results) (*results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var old results
	if err := json.Unmarshal(data, &old); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, w := range old.Workloads {
		for _, s := range w.Servers {
			// Knee is not in the JSON: the first step that was not clean
			// ended the stepping, so it is the last one.
			if n := len(s.Steps); n > 0 && !s.Steps[n-1].Clean {
				s.Knee = s.Steps[n-1]
			}
		}
	}
	for k, v := range now.Addresses {
		if _, ok := old.Addresses[k]; !ok {
			if old.Addresses == nil {
				old.Addresses = map[string]string{}
			}
			old.Addresses[k] = v
		}
	}
	var names []string
	for _, w := range now.Workloads {
		names = append(names, w.Name)
		i := slices.IndexFunc(old.Workloads, func(o *workloadResult) bool { return o.Name == w.Name })
		if i >= 0 {
			old.Workloads[i] = w
		} else {
			old.Workloads = append(old.Workloads, w)
		}
	}
	// A note about loads this run measured again is stale.
	var keep []string
	for _, n := range old.Merged {
		loads, _, _ := strings.Cut(n, ": re-run on ")
		stale := true
		for _, l := range strings.Split(loads, ", ") {
			stale = stale && slices.Contains(names, l)
		}
		if !stale {
			keep = append(keep, n)
		}
	}
	mode, _, _ := strings.Cut(now.Mode, " (")
	old.Merged = append(keep, fmt.Sprintf("%s: re-run on %s (%s mode, took %s, commit %s, sipbench -merge); the other sections are from the run above.",
		strings.Join(names, ", "), now.Date, mode, now.Elapsed, now.Machine.Commit))
	return &old, nil
}

// asteriskBaseline is what issue 7 records for Asterisk on this machine
// kind. Asterisk is not in Debian's archive, so it is not measured here.
type asteriskBaseline struct {
	Source            string  `json:"source"`
	B2BUACallsPerS    int     `json:"b2bua_max_clean_calls_per_s"`
	B2BUACPUmsPerCall string  `json:"b2bua_cpu_ms_per_call"`
	KBPerHeldCall     int     `json:"rss_kb_per_held_call"`
	HeldCalls         int     `json:"held_calls_before_fd_limit"`
	FDLimit           int     `json:"fd_limit"`
	RegisterPerS      int     `json:"register_per_s"`
	RegisterCPUms     float64 `json:"register_cpu_ms_each"`
}

var asterisk = asteriskBaseline{
	Source:            "recorded in issue 7 on this machine kind; not measured by this run",
	B2BUACallsPerS:    400,
	B2BUACPUmsPerCall: "3.8-4.7",
	KBPerHeldCall:     441,
	HeldCalls:         2000,
	FDLimit:           20000,
	RegisterPerS:      4000,
	RegisterCPUms:     0.4,
}

func newResults(b *bench) *results {
	r := &results{
		Date:     time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Mode:     "full (make bench)",
		Asterisk: asterisk,
		Addresses: map[string]string{
			"gopbx":       "127.0.91.1:5060 (SIPp 127.0.91.2:5070)",
			"kamailio":    "127.0.92.1:5060 (SIPp 127.0.92.2:5070)",
			"kamailio-db": "127.0.93.1:5060 (SIPp 127.0.93.2:5070)",
			"media":       "gopbx 127.0.0.161:5060 (RTP on the same address, pprof TCP 6061), Go caller 127.0.0.162 (SIP 5070, RTP 40000), Go callee 127.0.0.163 (SIP 5080, RTP 40000)",
		},
	}
	if b.quick {
		r.Mode = "quick (make bench-quick)"
	}
	m := &r.Machine
	m.NProc = runtime.NumCPU()
	m.Go = runtime.Version()
	if c, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(c), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(k))
	}
	m.MemMB = statusKB("/proc/meminfo", "MemTotal") / 1024
	m.SIPp = firstLine(cmdOutput("sipp", "-v"), "SIPp")
	if b.kamailio != "" {
		m.Kamailio = strings.TrimPrefix(firstLine(cmdOutput(b.kamailio, "-v"), "version"), "version: ")
	}
	m.Gopbx = strings.TrimSpace(cmdOutput(b.gopbx, "-version"))
	m.Commit = strings.TrimSpace(cmdOutputIn(b.root, "git", "describe", "--always", "--dirty"))
	r.Notes = append(r.Notes,
		"SIPp runs with -buff_size 4194304; gopbx sets 4 MiB SO_RCVBUF/SO_SNDBUF itself; Kamailio's receive buffer probe may go to 4 MiB (maxbuffer in bench/kamailio/registrar.cfg).",
		fmt.Sprintf("gopbx anchors the media of the B2BUA calls (SIPp's SDP): its rtp.conf for them is rtpstart=%d, rtpend=%d. The default 10000-20000 holds 2,500 such calls on one address (two port pairs each), and at 2,000 calls/s of 1 s the calls up plus those being set up outgrew it: gopbx answered 503 (\"no free port\"), as Asterisk would with the same range.", callRTPStart, callRTPEnd))
	return r
}

func cmdOutput(name string, args ...string) string { return cmdOutputIn("", name, args...) }

func cmdOutputIn(dir, name string, args ...string) string {
	c := exec.Command(name, args...)
	c.Dir = dir
	out, _ := c.CombinedOutput()
	return string(out)
}

func firstLine(s, contains string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, contains) {
			return strings.Trim(strings.TrimSpace(l), ".")
		}
	}
	return ""
}

// raiseSocketBuffers raises net.core.rmem_max/wmem_max to 8 MiB when root
// so that 4 MiB socket buffers are granted, and returns a function that
// puts the old values back.
func (b *bench) raiseSocketBuffers() func() {
	const want = 8 << 20
	var undo []func()
	for _, name := range []string{"rmem_max", "wmem_max"} {
		path := "/proc/sys/net/core/" + name
		raw, err := os.ReadFile(path)
		if err != nil {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("net.core.%s unreadable: %v", name, err))
			continue
		}
		old, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		if old >= want {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("net.core.%s is %d, already >= %d: left as is.", name, old, want))
			continue
		}
		if os.Geteuid() != 0 {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("WARNING: net.core.%s is %d and sipbench is not root: socket buffers are capped, expect drops (run as root or sysctl -w net.core.%s=%d).", name, old, name, want))
			continue
		}
		if err := os.WriteFile(path, []byte(strconv.Itoa(want)), 0o644); err != nil {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("WARNING: could not raise net.core.%s: %v", name, err))
			continue
		}
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("Raised net.core.%s from %d to %d with sysctl for the run (restored afterwards).", name, old, want))
		undo = append(undo, func() { _ = os.WriteFile(path, []byte(strconv.Itoa(old)), 0o644) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

func (r *results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latest.md"), []byte(r.markdown()), 0o644)
}
