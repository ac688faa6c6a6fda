// Command gopbx is the gopbx daemon and its console client.
//
//	gopbx                       run on the embedded demo configuration
//	gopbx -C /etc/asterisk      run on Asterisk-style config files
//	gopbx -r                    attach a console to the running daemon
//	gopbx -rx "sip show peers"  run one console command and exit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // only served with -pprof
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/gctune"
	"github.com/gopbx/gopbx/internal/pbx"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// verbosity counts -v flags, so -v -v and -vvv both work.
type verbosity int

func (v *verbosity) String() string   { return fmt.Sprint(int(*v)) }
func (v *verbosity) IsBoolFlag() bool { return true }
func (v *verbosity) Set(s string) error {
	if s == "true" {
		*v++
	}
	return nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gopbx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	confDir := fs.String("C", "", "directory with Asterisk-style config files (sip.conf, pjsip.conf, ...); default: the embedded demo")
	dataDir := fs.String("data", "gopbx-data", "data directory (SQLite database, console socket, demo config)")
	var verbose verbosity
	fs.Var(&verbose, "v", "more verbose logging (repeat: -vvv)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	remote := fs.Bool("r", false, "attach a console to the running gopbx")
	remoteExec := fs.String("rx", "", "run one console command on the running gopbx and exit")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060) for profiling")
	gcFloor := fs.Int("gc-floor", -1, "MiB the heap may grow to before the garbage collector runs while gopbx is busy (allocating over 16 MiB/s), trading memory for CPU under call load (above it GOGC=100 applies; docs/operations.md); -1: an eighth of the memory, at most 256; 0: Go's default; GOGC in the environment overrides")
	// Accept -vvv and -rvvv like Asterisk by expanding them first.
	args = expandShortFlags(args)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "gopbx", buildVersion())
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if rest := fs.Args(); len(rest) > 0 {
		// Offline tools: gopbx dialplan test CONTEXT EXTEN [callerid].
		if len(rest) >= 4 && rest[0] == "dialplan" && rest[1] == "test" {
			cid := ""
			if len(rest) > 4 {
				cid = rest[4]
			}
			if err := pbx.DialplanTest(*confDir, *dataDir, stdout, rest[2], rest[3], cid); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			return 0
		}
		fmt.Fprintf(stderr, "gopbx: unknown command %q (try: gopbx dialplan test CONTEXT EXTEN [callerid])\n", strings.Join(rest, " "))
		return 2
	}

	sock := filepath.Join(*dataDir, pbx.ConsoleSocket)
	if *remoteExec != "" || *remote {
		c, err := cli.Dial(ctx, sock)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer c.Close()
		if *remoteExec != "" {
			if err := c.Exec(ctx, *remoteExec, stdout); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			return 0
		}
		fmt.Fprintf(stdout, "Connected to gopbx %s on %s\n", buildVersion(), sock)
		if err := c.Interactive(ctx, stdin, stdout, "gopbx*CLI> "); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}

	level := new(slog.LevelVar)
	switch {
	case verbose >= 3:
		level.Set(slog.LevelDebug - 4)
	case verbose >= 1:
		level.Set(slog.LevelDebug)
	default:
		level.Set(slog.LevelInfo)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(h)

	floor := uint64(max(*gcFloor, 0)) << 20
	if *gcFloor < 0 {
		floor = gctune.DefaultFloor()
	}
	go gctune.Tune(ctx, floor, log)

	if *pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				log.Error("pprof listener", "error", err)
			}
		}()
	}

	p, err := pbx.New(ctx, pbx.Options{
		ConfDir: *confDir,
		DataDir: *dataDir,
		Log:     log,
		Level:   level,
		Version: buildVersion(),
		Out:     stdout,
	})
	if err != nil {
		log.Error("start failed", "error", err)
		return 1
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped with error", "error", err)
		return 1
	}
	return 0
}

// expandShortFlags turns Asterisk-style clusters (-vvv, -rvvv, -rx) into
// flags the flag package understands.
func expandShortFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "rv") == "" && a != "-rx" {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}
