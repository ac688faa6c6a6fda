package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sippRun is one SIPp client run's outcome.
type sippRun struct {
	PID        int
	ExitCode   int
	Killed     bool
	Successful int64
	Failed     int64
	Retrans    int64
	Elapsed    time.Duration // SIPp's own start..last statistics line
	Wall       time.Duration // process lifetime as sipbench saw it
	CPU        time.Duration // SIPp's user + system CPU (rusage)
	RTT        rttStats
}

// rttStats summarises SIPp's response-time samples (timer 1: the first
// request of the call to its final 200), in milliseconds.
type rttStats struct {
	N                        int
	Mean, P50, P95, P99, Max float64
}

// sippArgs builds the SIPp command line of a client run.
func sippArgs(bin, scen, remote, localIP string, localPort, rate, calls int, timeout time.Duration, users string) []string {
	a := []string{bin, remote,
		"-sf", scen,
		"-i", localIP, "-bind_local", "-p", strconv.Itoa(localPort),
		"-t", "u1",
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls),
		"-buff_size", "4194304",
		"-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error",
		"-trace_stat", "-stf", "stat.csv", "-fd", "1",
		"-trace_rtt", "-rtt_freq", "1000",
		"-trace_err", "-error_file", "errors.log",
		"-ringbuffer_files", "1", "-ringbuffer_size", "20000000",
	}
	if users != "" {
		a = append(a, "-inf", users)
	}
	return a
}

// sippUASArgs builds the command line of the SIPp callee behind the server:
// it answers up to calls calls, then exits.
func sippUASArgs(bin, scen, localIP string, localPort, calls int) []string {
	return []string{bin,
		"-sf", scen,
		"-i", localIP, "-bind_local", "-p", strconv.Itoa(localPort),
		"-t", "u1",
		"-m", strconv.Itoa(calls),
		"-buff_size", "4194304",
		"-nostdin",
		"-trace_stat", "-stf", "stat.csv", "-fd", "1",
		"-trace_err", "-error_file", "errors.log",
		"-ringbuffer_files", "1", "-ringbuffer_size", "20000000",
	}
}

// setNice sets a process's nice value (0: leave it).
func setNice(pid, nice int) {
	if nice != 0 {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, pid, nice)
	}
}

// uasRun is what the callee reports.
type uasRun struct {
	CPU    time.Duration
	Failed int64
}

// finishUAS waits up to grace for the callee to end by itself, stops it
// otherwise, and reads its CPU time and failed-call count.
func finishUAS(p *proc, dir string, grace time.Duration) uasRun {
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	p.stop(time.Second)
	var u uasRun
	if ps := p.cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
			u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stat.csv")); err == nil {
		if st, err := parseSIPpStat(string(b)); err == nil {
			u.Failed = st.failed
		}
	}
	return u
}

// runSIPp runs a SIPp client in dir to completion, killing it killAfter
// past its start, and collects its statistics.
func runSIPp(dir string, argv []string, killAfter time.Duration, nice int) (sippRun, error) {
	var r sippRun
	start := time.Now()
	p, err := startProc("sipp", dir, filepath.Join(dir, "sipp.log"), argv...)
	if err != nil {
		return r, err
	}
	r.PID = p.pid()
	setNice(r.PID, nice)
	select {
	case <-p.done:
	case <-time.After(killAfter):
		r.Killed = true
		p.stop(time.Second)
	}
	p.stop(time.Second) // unregisters it; the process is gone already
	r.Wall = time.Since(start)
	if ps := p.cmd.ProcessState; ps != nil {
		r.ExitCode = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	stat, err := os.ReadFile(filepath.Join(dir, "stat.csv"))
	if err != nil {
		return r, fmt.Errorf("sipp wrote no statistics (exit %d): %s", r.ExitCode, tailFile(filepath.Join(dir, "sipp.log"), 2000))
	}
	st, err := parseSIPpStat(string(stat))
	if err != nil {
		return r, err
	}
	r.Successful, r.Failed, r.Retrans, r.Elapsed = st.successful, st.failed, st.retrans, st.elapsed
	rtt, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var samples []float64
	for _, f := range rtt {
		samples = append(samples, readRTT(f)...)
	}
	r.RTT = summarise(samples)
	return r, nil
}

type sippStat struct {
	successful, failed, retrans int64
	elapsed                     time.Duration
}

// parseSIPpStat reads the last line of SIPp's -trace_stat CSV (';'
// separated, a header line naming the columns). Time columns hold
// "date<TAB>time<TAB>epoch"; the elapsed time comes from the epochs
// because ElapsedTime(C) has a one-second resolution.
func parseSIPpStat(s string) (sippStat, error) {
	var st sippStat
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) < 2 {
		return st, fmt.Errorf("sipp statistics file has no data line")
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	col := map[string]string{}
	for i, h := range head {
		if i < len(last) {
			col[h] = last[i]
		}
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(strings.TrimSpace(col[k]), 10, 64); return n }
	epoch := func(k string) float64 {
		f := strings.Fields(col[k])
		if len(f) == 0 {
			return 0
		}
		x, _ := strconv.ParseFloat(f[len(f)-1], 64)
		return x
	}
	st.successful = num("SuccessfulCall(C)")
	st.failed = num("FailedCall(C)")
	st.retrans = num("Retransmissions(C)")
	if a, b := epoch("StartTime"), epoch("CurrentTime"); b > a {
		st.elapsed = time.Duration((b - a) * float64(time.Second))
	}
	if _, ok := col["SuccessfulCall(C)"]; !ok {
		return st, fmt.Errorf("sipp statistics file lacks SuccessfulCall(C)")
	}
	return st, nil
}

// readRTT reads a SIPp -trace_rtt file: "Date_ms;response_time_ms;rtd_no".
func readRTT(path string) []float64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ";")
		if len(fs) < 3 || strings.TrimSpace(fs[2]) != "1" {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(fs[1]), 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func summarise(v []float64) rttStats {
	if len(v) == 0 {
		return rttStats{}
	}
	sort.Float64s(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	return rttStats{N: len(v), Mean: sum / float64(len(v)), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: v[len(v)-1]}
}

// sippRefusals counts, by status line, the responses SIPp aborted calls on
// ("Aborting call on unexpected message ... received 'SIP/2.0 503 Service
// Unavailable"): the server refusing calls, which a failure count alone
// does not tell from timeouts.
func sippRefusals(path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	const mark = "received 'SIP/2.0 "
	var m map[string]int
	for rest := string(b); ; {
		i := strings.Index(rest, mark)
		if i < 0 {
			break
		}
		rest = rest[i+len(mark):]
		line, _, _ := strings.Cut(rest, "\n")
		line = strings.TrimSpace(line)
		if line == "" || line[0] < '3' || line[0] > '6' {
			continue // provisional or 2xx out of order: not a refusal
		}
		if m == nil {
			m = map[string]int{}
		}
		m[line]++
	}
	return m
}

// refusalText is "503 Service Unavailable ×12, 486 Busy Here ×1", most
// frequent first.
func refusalText(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range m {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].k < all[j].k })
	parts := make([]string, len(all))
	for i, e := range all {
		parts[i] = fmt.Sprintf("%s ×%d", e.k, e.n)
	}
	return strings.Join(parts, ", ")
}
