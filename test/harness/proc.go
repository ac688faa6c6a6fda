package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a child process whose stdout and stderr go to a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done

	mu       sync.Mutex
	stopping bool // we asked it to exit
}

// startProc starts argv with its output appended to logPath. The process
// gets SIGKILL if the test binary dies (Pdeathsig), so nothing outlives a
// crashed or timed-out test run.
func startProc(name, logPath, dir string, env []string, argv ...string) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(lf, "=== %s: %s\n", time.Now().Format("15:04:05.000"), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("harness: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to grace, then kills the process group. It
// reports whether the process exited within grace.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) bool {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if p.exited() {
		return true
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		p.killGroup() // children it left behind
		return true
	case <-time.After(grace):
	}
	p.kill()
	return false
}

// killGroup kills what is left of the process group (the process ran
// with Setpgid, so its pid is the group id).
func (p *proc) killGroup() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

// kill sends SIGKILL to the process and its group and waits for it.
func (p *proc) kill() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	p.killGroup()
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// unexpectedExit reports the exit of a process nobody asked to stop.
func (p *proc) unexpectedExit() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || !p.exited() {
		return false, nil
	}
	return true, p.err
}

// readLog returns the log file's content ("" when unreadable).
func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// logTail is the last max bytes of path, cut at a line start.
func logTail(path string, max int) string {
	s := readLog(path)
	if len(s) <= max {
		return s
	}
	s = s[len(s)-max:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[... " + path + " truncated ...]\n" + s
}

// dumpOnFailure registers a cleanup that prints the log when the test
// failed. Register it before the stop cleanup so it runs after it.
func dumpOnFailure(t testing.TB, what, path string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("---- %s log (%s) ----\n%s\n---- end of %s log ----", what, path, logTail(path, 64<<10), what)
		}
	})
}
