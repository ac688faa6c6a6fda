package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PBXOptions configures StartPBX.
type PBXOptions struct {
	// IP is the loopback address the config makes gopbx listen on; the
	// test must have claimed it (IP or NextIP). Required.
	IP string
	// Port is the SIP port of the UDP transport (default 5060).
	Port int
	// Files are written into the config directory given with -C, e.g.
	// "pjsip.conf", "sip.conf", "extensions.conf". With no files gopbx runs
	// without -C (its demo users).
	Files map[string]string
	// Args are extra command-line arguments. Without a -v flag the harness
	// adds -vvv so a failing test shows a full log.
	Args []string
	// DataDir reuses a data directory (restart tests); default a new one.
	DataDir string
	// ReadyTransport is the transport of the readiness OPTIONS: "udp"
	// (default) or "tcp". "none" skips the check.
	ReadyTransport string
	// ReadyTimeout bounds the readiness check (default 10 s).
	ReadyTimeout time.Duration
	// Env is added to the process environment.
	Env []string
}

// PBX is a running gopbx process.
type PBX struct {
	t       testing.TB
	bin     string
	opts    PBXOptions
	confDir string
	dataDir string
	logPath string

	mu   sync.Mutex
	proc *proc
}

// StartPBX writes opts.Files to a fresh config directory, starts gopbx and
// waits until it answers OPTIONS with 200 on IP:Port. Cleanup stops it with
// SIGTERM (SIGKILL after 5 s, which fails the test) and fails the test if
// it had exited on its own before.
func StartPBX(t testing.TB, opts PBXOptions) *PBX {
	t.Helper()
	return startPBX(t, Binary(t), opts)
}

func startPBX(t testing.TB, bin string, opts PBXOptions) *PBX {
	t.Helper()
	if opts.IP == "" {
		t.Fatal("harness: PBXOptions.IP is required")
	}
	mustLoopback(t, "PBXOptions.IP", opts.IP)
	if opts.Port == 0 {
		opts.Port = 5060
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	p := &PBX{t: t, bin: bin, opts: opts}
	base := t.TempDir()
	if len(opts.Files) > 0 {
		p.confDir = filepath.Join(base, "conf")
		if err := os.MkdirAll(p.confDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range opts.Files {
			p.WriteConfig(t, name, content)
		}
	}
	p.dataDir = opts.DataDir
	if p.dataDir == "" {
		p.dataDir = filepath.Join(base, "data")
		if err := os.MkdirAll(p.dataDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.logPath = filepath.Join(base, "gopbx.log")
	dumpOnFailure(t, "gopbx", p.logPath)
	t.Cleanup(func() { p.cleanup() })
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *PBX) args() []string {
	var a []string
	if p.confDir != "" {
		a = append(a, "-C", p.confDir)
	}
	a = append(a, "-data", p.dataDir)
	verbose := false
	for _, x := range p.opts.Args {
		if strings.HasPrefix(x, "-v") {
			verbose = true
		}
	}
	if !verbose {
		a = append(a, "-vvv")
	}
	return append(a, p.opts.Args...)
}

// start launches the process and waits for readiness.
func (p *PBX) start() error {
	argv := append([]string{p.bin}, p.args()...)
	pr, err := startProc("gopbx", p.logPath, p.dataDir, p.opts.Env, argv...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.proc = pr
	p.mu.Unlock()
	if p.opts.ReadyTransport == "none" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.ReadyTimeout)
	defer cancel()
	tr := p.opts.ReadyTransport
	if tr == "" {
		tr = "udp"
	}
	if err := waitSIP(ctx, tr, p.opts.IP, p.Addr(), pr.done); err != nil {
		if pr.exited() {
			pr.mu.Lock()
			pr.stopping = true // reported here, not again by cleanup
			pr.mu.Unlock()
			return fmt.Errorf("harness: gopbx exited during startup (%v): %w", pr.err, err)
		}
		return fmt.Errorf("harness: gopbx not ready within %v: %w", p.opts.ReadyTimeout, err)
	}
	return nil
}

func (p *PBX) cleanup() {
	p.mu.Lock()
	pr := p.proc
	p.mu.Unlock()
	if pr == nil {
		return
	}
	defer func() {
		// A -race build (GOPBX_TEST_RACE=1) reports and keeps running.
		if strings.Contains(p.Log(), "WARNING: DATA RACE") {
			p.t.Errorf("harness: the race detector fired in gopbx (see its log)")
		}
	}()
	if gone, err := pr.unexpectedExit(); gone {
		p.t.Errorf("harness: gopbx exited on its own during the test: %v", err)
		return
	}
	running := !pr.exited()
	if !pr.stop(syscall.SIGTERM, 5*time.Second) {
		p.t.Errorf("harness: gopbx did not exit within 5s of SIGTERM; killed it")
	} else if running && pr.err != nil {
		p.t.Logf("harness: gopbx exited with %v after SIGTERM", pr.err)
	}
}

// Addr is the UDP/TCP SIP address, "ip:port".
func (p *PBX) Addr() string { return HostPort(p.opts.IP, p.opts.Port) }

// IP is the address gopbx listens on.
func (p *PBX) IP() string { return p.opts.IP }

// ConfDir is the -C directory ("" when started without files).
func (p *PBX) ConfDir() string { return p.confDir }

// DataDir is the -data directory.
func (p *PBX) DataDir() string { return p.dataDir }

// Log returns everything gopbx wrote to stdout and stderr so far, across
// restarts.
func (p *PBX) Log() string { return readLog(p.logPath) }

// Pid is the process id of the running gopbx.
func (p *PBX) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.cmd.Process.Pid
}

// WriteConfig writes (or replaces) a file in the config directory, e.g.
// before Signal(syscall.SIGHUP) or Console(t, "core reload").
func (p *PBX) WriteConfig(t testing.TB, name, content string) {
	t.Helper()
	if p.confDir == "" {
		t.Fatal("harness: gopbx was started without a config directory")
	}
	if strings.Contains(name, "/") {
		if err := os.MkdirAll(filepath.Join(p.confDir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(p.confDir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Console runs `gopbx -data DIR -rx cmd` and returns its output; a failure
// or a run longer than 10 s fails the test.
func (p *PBX) Console(t testing.TB, cmd string) string {
	t.Helper()
	out, err := p.ConsoleErr(cmd)
	if err != nil {
		t.Fatalf("harness: console %q: %v\n%s", cmd, err, out)
	}
	return out
}

// ConsoleErr is Console returning the error instead of failing.
func (p *PBX) ConsoleErr(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, p.bin, "-data", p.dataDir, "-rx", cmd)
	c.Env = append(os.Environ(), p.opts.Env...)
	c.WaitDelay = time.Second
	b, err := c.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after 10s: %w", err)
	}
	return string(b), err
}

// WaitConsole runs cmd every 100 ms until ok accepts its output or timeout
// passes, and returns the last output. It fails the test on timeout.
func (p *PBX) WaitConsole(t testing.TB, cmd string, timeout time.Duration, ok func(out string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := p.ConsoleErr(cmd)
		if err == nil && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("harness: console %q: condition not met within %v (err %v); last output:\n%s", cmd, timeout, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Signal sends sig to gopbx (SIGHUP reloads).
func (p *PBX) Signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.cmd.Process.Signal(sig)
}

// Stop sends SIGTERM and waits; the test fails if gopbx needs more than
// 5 s (it is then killed) or exits with an error.
func (p *PBX) Stop(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	pr := p.proc
	p.mu.Unlock()
	if gone, err := pr.unexpectedExit(); gone {
		t.Fatalf("harness: gopbx had already exited on its own: %v", err)
	}
	if !pr.stop(syscall.SIGTERM, 5*time.Second) {
		t.Fatalf("harness: gopbx did not exit within 5s of SIGTERM; killed it")
	}
	if pr.err != nil {
		t.Errorf("harness: gopbx exited with %v after SIGTERM", pr.err)
	}
}

// Kill stops gopbx with SIGKILL (a crash, for restart tests).
func (p *PBX) Kill(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	pr := p.proc
	p.mu.Unlock()
	pr.kill()
}

// Restart stops gopbx if it runs (SIGTERM) and starts it again with the
// same config and data directories, waiting for readiness.
func (p *PBX) Restart(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	pr := p.proc
	p.mu.Unlock()
	if !pr.exited() {
		p.Stop(t)
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

// Running reports whether the gopbx process is alive.
func (p *PBX) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.proc.exited()
}
