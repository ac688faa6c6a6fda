package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
)

// microResult holds the Go micro-benchmarks' result lines.
type microResult struct {
	Benchtime string   `json:"benchtime"`
	Lines     []string `json:"lines"` // "pkg" headers and Benchmark lines
	Error     string   `json:"error,omitempty"`
}

// runMicro runs every package's Go benchmarks (what `make bench` ran
// before sipbench existed), echoing go test's output and keeping the
// result lines for the report.
func runMicro(ctx context.Context, goBin, root, benchtime string) *microResult {
	fmt.Printf("\n== Go micro-benchmarks (-benchtime %s)\n", benchtime)
	m := &microResult{Benchtime: benchtime}
	cmd := exec.CommandContext(ctx, goBin, "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "./...")
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		m.Error = err.Error()
		return m
	}
	done := make(chan struct{})
	var failed []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			if strings.Contains(l, "no test files") {
				continue
			}
			fmt.Println(l)
			switch {
			case strings.HasPrefix(l, "pkg: "):
				m.Lines = append(m.Lines, l)
			case strings.HasPrefix(l, "Benchmark"):
				m.Lines = append(m.Lines, l)
			case strings.HasPrefix(l, "FAIL"), strings.HasPrefix(l, "--- FAIL"):
				failed = append(failed, l)
			}
		}
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	if err != nil {
		m.Error = fmt.Sprintf("go test exited with %v", err)
		if len(failed) > 0 {
			m.Error += ": " + strings.Join(failed, "; ")
		}
	}
	return m
}
