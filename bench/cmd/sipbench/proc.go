package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process in its own process group (Kamailio forks its
// workers into it), with output appended to a log file. Every proc is
// registered so that stopAll can end them whatever happens; the kernel
// also SIGKILLs each one if sipbench dies (Pdeathsig).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

var running struct {
	sync.Mutex
	procs  map[*proc]bool
	closed bool // after a signal: start nothing more
}

func startProc(name, dir, logPath string, argv ...string) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(lf, "=== %s %s\n", time.Now().Format("15:04:05.000"), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	running.Lock()
	defer running.Unlock()
	if running.closed {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, context.Canceled)
	}
	if running.procs == nil {
		running.procs = map[*proc]bool{}
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	running.procs[p] = true
	recordGroup(p.pid(), dir)
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs the process group
// (which also takes any worker the process left behind).
func (p *proc) stop(grace time.Duration) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	running.Lock()
	delete(running.procs, p)
	running.Unlock()
}

// closeAndStopAll makes startProc refuse new processes, then stops all.
func closeAndStopAll() {
	running.Lock()
	running.closed = true
	running.Unlock()
	stopAll()
}

// stopAll ends every process sipbench started and has not stopped yet.
func stopAll() {
	running.Lock()
	ps := make([]*proc, 0, len(running.procs))
	for p := range running.procs {
		ps = append(ps, p)
	}
	running.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(2 * time.Second) }()
	}
	wg.Wait()
}

// ---- leftovers of a sipbench that was killed ----

// Pdeathsig ends sipbench's own children if it is killed, but not what they
// forked: Kamailio's workers outlive their main process. So each process
// group started is recorded, with its work directory, in a file named
// after the sipbench that started it, and the next sipbench kills what is
// left of the groups of sipbenches that are no longer running. A sipbench
// still running (another engineer's, on other addresses) keeps its file
// and its processes.

func groupsDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("sipbench-%d.groups", os.Getuid()))
}

func groupsFile() string {
	return filepath.Join(groupsDir(), strconv.Itoa(os.Getpid()))
}

func recordGroup(pgid int, dir string) {
	if err := os.MkdirAll(groupsDir(), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(groupsFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%d %s\n", pgid, dir)
	f.Close()
}

// sipbenchRunning reports whether pid is a live sipbench.
func sipbenchRunning(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	return strings.Contains(filepath.Base(argv0), "sipbench")
}

// killLeftovers kills the recorded process groups of sipbenches that no
// longer run whose processes still run in (or name) the recorded work
// directory, and reports what it killed.
func killLeftovers() []string {
	ents, err := os.ReadDir(groupsDir())
	if err != nil {
		return nil
	}
	var killed []string
	for _, e := range ents {
		owner, err := strconv.Atoi(e.Name())
		if err != nil || owner == os.Getpid() || sipbenchRunning(owner) {
			continue
		}
		path := filepath.Join(groupsDir(), e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			pgidStr, dir, ok := strings.Cut(line, " ")
			pgid, err := strconv.Atoi(pgidStr)
			if !ok || err != nil || pgid <= 1 || dir == "" {
				continue
			}
			for _, pid := range groupPIDs(pgid) {
				// Ours if it runs in the directory or names it on its
				// command line (Kamailio changes to / but has -Y DIR).
				cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if cwd == dir || strings.HasPrefix(cwd, dir+"/") || strings.Contains(string(cmdline), dir) {
					_ = syscall.Kill(-pgid, syscall.SIGKILL)
					killed = append(killed, fmt.Sprintf("process group %d (%s)", pgid, dir))
					break
				}
			}
		}
		os.Remove(path)
	}
	return killed
}

// forgetGroups is called once every process has been stopped.
func forgetGroups() { os.Remove(groupsFile()) }

// ---- /proc readers ----

const clockTicks = 100 // USER_HZ, 100 on every Linux architecture Go runs on

// procStat is the part of /proc/PID/stat the benchmark uses.
type procStat struct {
	ppid      int
	pgrp      int
	cpuTicks  int64 // utime + stime
	threadCnt int
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

// parseProcStat parses a /proc/PID/stat line; the command name may hold
// spaces and parentheses, so fields are counted after the last ')'.
func parseProcStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15,
	// num_threads 20.
	if len(f) < 18 {
		return procStat{}, errors.New("short stat")
	}
	var st procStat
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.cpuTicks = ut + stt
	st.threadCnt, _ = strconv.Atoi(f[17])
	return st, nil
}

// groupPIDs lists the live processes of process group pgid.
func groupPIDs(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err == nil && st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupCPU is the CPU time (user + system) of every live process in the
// group; processes that have exited are not counted, which for the servers
// here (long-lived workers) loses nothing.
func groupCPU(pgid int) time.Duration {
	var ticks int64
	for _, pid := range groupPIDs(pgid) {
		if st, err := readProcStat(pid); err == nil {
			ticks += st.cpuTicks
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// statusKB reads a "Key:   N kB" line of a /proc/PID/status-like file.
func statusKB(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key+":") {
			fs := strings.Fields(line[len(key)+1:])
			if len(fs) > 0 {
				n, _ := strconv.ParseInt(fs[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// memory is a process group's memory: the sum of each process's peak RSS
// (VmHWM; shared memory touched by several processes counts once per
// process) and of its current proportional set size (PSS, shared pages
// divided among their users).
type memory struct {
	Procs int
	HWMKB int64
	PSSKB int64
}

func groupMemory(pgid int) memory {
	var m memory
	for _, pid := range groupPIDs(pgid) {
		m.Procs++
		m.HWMKB += statusKB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM")
		m.PSSKB += statusKB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss")
	}
	return m
}

// selfCPU is sipbench's own user + system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---- UDP sockets ----

// udpKey is how /proc/net/udp spells an IPv4 local address: the address as
// a host-order (little-endian here) 32-bit hex number, then the port.
func udpKey(ip string, port int) string {
	a := net.ParseIP(ip).To4()
	if a == nil {
		return ""
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], port)
}

// udpSocket is one /proc/net/udp line.
type udpSocket struct {
	RxQueue int64
	Drops   int64
}

func parseProcNetUDP(s string) map[string]udpSocket {
	out := map[string]udpSocket{}
	for i, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 13 {
			continue
		}
		var u udpSocket
		if q := strings.SplitN(f[4], ":", 2); len(q) == 2 {
			u.RxQueue, _ = strconv.ParseInt(q[1], 16, 64)
		}
		u.Drops, _ = strconv.ParseInt(f[12], 10, 64)
		// Several sockets may share an address (SO_REUSEPORT): add them.
		o := out[f[1]]
		o.Drops += u.Drops
		o.RxQueue += u.RxQueue
		out[f[1]] = o
	}
	return out
}

func readProcNetUDP() map[string]udpSocket {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return nil
	}
	return parseProcNetUDP(string(b))
}

// udpSNMP returns the host's Udp counters from /proc/net/snmp.
func udpSNMP() map[string]int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return nil
	}
	return parseSNMP(string(b), "Udp:")
}

func parseSNMP(s, prefix string) map[string]int64 {
	var names []string
	out := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line[len(prefix):])
		if names == nil {
			names = f
			continue
		}
		for i, v := range f {
			if i < len(names) {
				out[names[i]], _ = strconv.ParseInt(v, 10, 64)
			}
		}
		break
	}
	return out
}

// sampler watches the machine every 200 ms during a run:
//
//   - /proc/net/udp: for each watched address the highest drop count and
//     receive queue seen (a socket's counters vanish with it, so SIPp's are
//     read while it runs);
//   - every process's CPU time, so that the CPU used by other work on the
//     host (other test runs sharing the machine) and by kernel threads
//     shows beside the server's and SIPp's. A process first seen after the
//     start was born during the run and all its CPU counts; one that ends
//     between samples loses at most its last 200 ms.
type sampler struct {
	keys map[string]string // udpKey -> label
	mu   sync.Mutex
	max  map[string]udpSocket
	pids map[int]*pidCPU
	n    int
	stop chan struct{}
	done chan struct{}
}

type pidCPU struct {
	pgrp        int
	kernel      bool
	first, last int64 // ticks
}

func startSampler(addrs map[string]string) *sampler {
	w := &sampler{keys: map[string]string{}, max: map[string]udpSocket{}, pids: map[int]*pidCPU{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for label, hp := range addrs {
		h, p, _ := net.SplitHostPort(hp)
		port, _ := strconv.Atoi(p)
		w.keys[udpKey(h, port)] = label
	}
	w.sample() // the baseline, before the caller starts the load
	go func() {
		defer close(w.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.sample()
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

func (w *sampler) sample() {
	// /proc/net/udp lists every socket (tens of thousands in the media
	// loads): read it only when an address is watched.
	var socks map[string]udpSocket
	if len(w.keys) > 0 {
		socks = readProcNetUDP()
	}
	ents, _ := os.ReadDir("/proc")
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, label := range w.keys {
		s, ok := socks[k]
		if !ok {
			continue
		}
		m := w.max[label]
		m.Drops = max(m.Drops, s.Drops)
		m.RxQueue = max(m.RxQueue, s.RxQueue)
		w.max[label] = m
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue
		}
		c := w.pids[pid]
		if c == nil {
			c = &pidCPU{pgrp: st.pgrp, kernel: st.ppid == 2 || pid == 2}
			if w.n == 0 {
				c.first = st.cpuTicks
			}
			w.pids[pid] = c
		}
		c.last = st.cpuTicks
	}
	w.n++
}

// cpuSplit is the CPU used during the run outside the server and SIPp.
type cpuSplit struct {
	Other  time.Duration // user-space processes that are not ours
	Kernel time.Duration // kernel threads (softirq work, kworkers)
}

// finish stops sampling and returns the sockets' maxima and the CPU of the
// processes outside the given process groups (server, SIPp) and sipbench.
func (w *sampler) finish(ours ...int) (map[string]udpSocket, cpuSplit) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	self := os.Getpid()
	var split cpuSplit
	for pid, c := range w.pids {
		if pid == self || slices.Contains(ours, c.pgrp) {
			continue
		}
		d := time.Duration(c.last-c.first) * time.Second / clockTicks
		if c.kernel {
			split.Kernel += d
		} else {
			split.Other += d
		}
	}
	return w.max, split
}

// ---- small probes ----

// waitOptions sends OPTIONS to addr from an ephemeral port on localIP until
// a 200 comes back, the process exits or timeout passes.
func waitOptions(localIP, addr string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for n := 0; time.Now().Before(deadline); n++ {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited during startup (%v); see %s", p.name, p.err, p.log)
		}
		if last = optionsOnce(localIP, addr, n); last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no 200 to OPTIONS from %s within %v: %v", addr, timeout, last)
}

func optionsOnce(localIP, addr string, n int) error {
	c, err := net.ListenPacket("udp4", net.JoinHostPort(localIP, "0"))
	if err != nil {
		return err
	}
	defer c.Close()
	ra, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	lp := c.LocalAddr().(*net.UDPAddr).Port
	msg := fmt.Sprintf("OPTIONS sip:%[1]s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %[2]s:%[3]d;branch=z9hG4bK-sipbench-%[4]d-%[5]d;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:probe@%[2]s>;tag=sipbench%[4]d\r\n"+
		"To: <sip:%[1]s>\r\n"+
		"Call-ID: sipbench-probe-%[4]d-%[5]d@%[2]s\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", addr, localIP, lp, os.Getpid(), n)
	if _, err := c.WriteTo([]byte(msg), ra); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 4096)
	for {
		k, _, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if strings.HasPrefix(string(buf[:k]), "SIP/2.0 200") {
			return nil
		}
	}
}

// waitBound waits until a UDP socket is bound to ip:port.
func waitBound(ip string, port int, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !portBusy(ip, port) {
		if p.exited() {
			return fmt.Errorf("%s exited during startup (%v): %s", p.name, p.err, tailFile(p.log, 2000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not bind %s:%d within %v", p.name, ip, port, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// portBusy reports a UDP socket already bound to ip:port (a server or SIPp
// left over from an earlier run that was killed hard).
func portBusy(ip string, port int) bool {
	_, ok := readProcNetUDP()[udpKey(ip, port)]
	return ok
}

// tailFile returns the last n bytes of a file.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

func writeFile(dir, name, content string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(content), 0o644)
}
