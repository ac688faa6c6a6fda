package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error

	binOnce sync.Once
	binPath string
	binErr  error
	binTmp  string
)

// ModuleRoot returns the directory holding the gopbx go.mod, found by
// walking up from the working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("harness: no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatal(rootErr)
	}
	return rootDir
}

// Binary returns the path of a gopbx binary built from ./cmd/gopbx, once
// per test process. GOPBX_BIN overrides it with a prebuilt binary;
// GOPBX_TEST_RACE=1 builds with the race detector.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GOPBX_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("harness: GOPBX_BIN: %v", err)
		}
		return p
	}
	root := ModuleRoot(t)
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gopbx-harness-bin-")
		if err != nil {
			binErr = err
			return
		}
		binTmp = dir
		out := filepath.Join(dir, "gopbx")
		args := []string{"build", "-o", out}
		if os.Getenv("GOPBX_TEST_RACE") == "1" {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/gopbx")
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("harness: go build ./cmd/gopbx: %v\n%s", err, b)
			return
		}
		binPath = out
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var (
	tagMu   sync.Mutex
	tagBins = map[string]string{}
)

// BinaryWithTags builds gopbx with build tags (e.g. "opus", which needs
// cgo and libopus), once per tag set and test process; the binary lives
// beside Binary's and is removed with it.
func BinaryWithTags(t testing.TB, tags string) string {
	t.Helper()
	Binary(t) // makes binTmp
	tagMu.Lock()
	defer tagMu.Unlock()
	if p, ok := tagBins[tags]; ok {
		return p
	}
	out := filepath.Join(binTmp, "gopbx-"+tags)
	cmd := exec.Command("go", "build", "-tags", tags, "-o", out, "./cmd/gopbx")
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("harness: go build -tags %s ./cmd/gopbx: %v\n%s", tags, err, b)
	}
	tagBins[tags] = out
	return out
}

// StartPBXBinary is StartPBX with another gopbx binary (BinaryWithTags).
func StartPBXBinary(t testing.TB, bin string, opts PBXOptions) *PBX {
	t.Helper()
	return startPBX(t, bin, opts)
}

// Main runs the tests and removes the binary Binary built. Call it from
// TestMain: func TestMain(m *testing.M) { harness.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if binTmp != "" {
		os.RemoveAll(binTmp)
	}
	os.Exit(code)
}
