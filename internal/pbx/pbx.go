package pbx

import (
	"context"
	"errors"
	"fmt"
	"github.com/gopbx/gopbx/internal/app"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/chansip"
	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/demo"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/sipserver"
	"github.com/gopbx/gopbx/internal/storage/sqlite"
	"github.com/gopbx/gopbx/internal/trunk"
)

// ConsoleSocket is the console's unix socket name inside the data directory.
const ConsoleSocket = "gopbx.ctl"

// Options configure a PBX.
type Options struct {
	ConfDir string // empty: the embedded demo configuration
	DataDir string
	Log     *slog.Logger
	Level   *slog.LevelVar // changed by "core set verbose"
	Version string
	Out     io.Writer // start-up banner (demo passwords)
}

// PBX is one running gopbx.
type PBX struct {
	opts    Options
	log     *slog.Logger
	confDir string
	started time.Time
	reload  atomic.Int64 // unix nanos of the last successful (re)load

	cfg     atomic.Pointer[pbxconf.PBX]
	db      *sqlite.DB
	store   location.Store
	sip     *sipserver.Server
	reg     *registrar.Registrar
	qualify *registrar.Qualifier
	auth    *guard
	console *cli.Server

	chans     *channel.Registry
	engine    *dialplan.Engine
	chansip   *chansip.Driver
	trunks    *trunk.Manager
	media     *media.Manager
	menv      *app.MediaEnv
	cdr       *cdr.Collector
	processed atomic.Int64

	reloadMu sync.Mutex
	stopOnce sync.Once
	stopCh   chan struct{}
}

// New loads the configuration and opens the data directory; it does not
// listen yet (Run does), so configuration errors surface before any socket
// is bound.
func New(ctx context.Context, opts Options) (*PBX, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	p := &PBX{opts: opts, log: opts.Log, started: time.Now(), stopCh: make(chan struct{})}
	raiseFileLimit(p.log)

	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("pbx: data directory: %w", err)
	}
	p.confDir = opts.ConfDir
	if p.confDir != "" {
		if st, err := os.Stat(p.confDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("pbx: config directory %s: not a readable directory", p.confDir)
		}
	}
	if p.confDir == "" {
		dir, users, err := demo.Setup(opts.DataDir)
		if err != nil {
			return nil, err
		}
		p.confDir = dir
		printDemo(opts.Out, dir, users)
	}

	cfg, warns, err := pbxconf.Load(p.confDir)
	logDiags(p.log, warns)
	if err != nil {
		return nil, fmt.Errorf("pbx: configuration: %w", err)
	}
	if cfg.SIP == nil && cfg.PJSIP == nil {
		p.log.Warn("no sip.conf or pjsip.conf in the config directory: no endpoints", "dir", p.confDir)
	}
	p.resolveTrunkHosts(ctx, cfg)
	p.cfg.Store(cfg)
	p.reload.Store(time.Now().UnixNano())

	db, err := sqlite.Open(ctx, filepath.Join(opts.DataDir, "gopbx.db"))
	if err != nil {
		return nil, fmt.Errorf("pbx: open database: %w", err)
	}
	p.db = db
	p.store = db.Locations()

	srv, err := sipserver.New(sipserver.Options{
		UserAgent: cfg.UserAgent,
		Log:       p.log,
		Supported: []string{"path"},
		ClientTLS: cfg.ClientTLS,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	p.sip = srv
	p.auth, err = newGuard(p.log, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	p.reg = registrar.New(p.store, p.auth, policyOf(cfg), p.log)
	p.qualify = registrar.NewQualifier(p.reg, srv.Client(), p.log)
	srv.Handle(sip.REGISTER, p.reg)
	srv.Handle(sip.OPTIONS, sipserver.HandlerFunc(p.options))
	p.db = db

	if err := p.setupCalls(ctx); err != nil {
		db.Close()
		return nil, err
	}

	reg := cli.NewRegistry()
	p.registerCommands(reg)
	p.registerCallCommands(reg)
	p.registerMediaCommands(reg)
	p.registerSecurityCommands(reg)
	p.registerTrunkCommands(reg) // also starts following cfg's registrations
	p.console = cli.NewServer(reg, filepath.Join(opts.DataDir, ConsoleSocket), p.log)
	srv.Tracer().SetSink(p.console.Broadcast)
	return p, nil
}

func policyOf(c *pbxconf.PBX) *registrar.Policy {
	return &registrar.Policy{
		Endpoints:        c.Endpoints,
		AlwaysAuthReject: c.AlwaysAuthReject,
		// Endpoints carry their own limits (sip.conf [general], pjsip aor);
		// these are res_pjsip's defaults for anything that does not.
		MinExpiry:     60 * time.Second,
		MaxExpiry:     7200 * time.Second,
		DefaultExpiry: 3600 * time.Second,
	}
}

func (p *PBX) current() *pbxconf.PBX    { return p.cfg.Load() }
func (p *PBX) endpoints() *endpoint.Set { return p.cfg.Load().Endpoints }
func (p *PBX) lastReload() time.Time    { return time.Unix(0, p.reload.Load()) }
func (p *PBX) stop()                    { p.stopOnce.Do(func() { close(p.stopCh) }) }
func goVersion() string                 { return runtime.Version() }
func (p *PBX) setVerbose(n int) {
	if p.opts.Level == nil {
		return
	}
	switch {
	case n >= 3:
		p.opts.Level.Set(slog.LevelDebug - 4)
	case n >= 1:
		p.opts.Level.Set(slog.LevelDebug)
	default:
		p.opts.Level.Set(slog.LevelInfo)
	}
}

// Run listens and serves until ctx ends, SIGHUP-style reloads aside, then
// shuts down gracefully.
func (p *PBX) Run(ctx context.Context) error {
	defer p.db.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if err := p.console.Listen(); err != nil {
		return err
	}
	var ls []sipserver.Listener
	for _, l := range p.current().Listeners {
		sl := sipserver.Listener{Proto: l.Proto, Addr: l.Addr}
		if l.TLS != nil {
			sl.TLS = l.TLS.Config // loaded and checked by pbxconf.Load
		}
		ls = append(ls, sl)
	}
	p.applyExternal(p.current().Listeners)
	if err := p.sip.Listen(ctx, ls); err != nil {
		p.console.Close()
		return err
	}

	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() {
		if err := p.console.Serve(ctx); err != nil {
			p.log.Error("console stopped", "error", err)
		}
	})
	run(func() { p.reg.ExpireLoop(ctx, time.Second) })
	run(func() { p.qualify.Run(ctx) })
	p.trunks.Start(ctx) // registrations need the listeners
	run(func() { p.media.Run(ctx) })

	hup := make(chan os.Signal, 1)
	notifyHUP(hup)
	defer stopNotify(hup)

	p.log.Info("gopbx ready", "version", p.opts.Version, "config", p.confDir, "data", p.opts.DataDir)
	for {
		select {
		case <-ctx.Done():
			return p.shutdown(&wg, cancel)
		case <-p.stopCh:
			return p.shutdown(&wg, cancel)
		case <-hup:
			p.log.Info("reload requested by SIGHUP")
			if _, err := p.Reload(ctx); err != nil {
				p.log.Error("reload failed, keeping the running configuration", "error", err)
			}
		}
	}
}

func (p *PBX) shutdown(wg *sync.WaitGroup, cancel context.CancelFunc) error {
	p.log.Info("shutting down")
	p.stopTrunks() // un-REGISTER while the listeners are still open
	cancel()
	p.console.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	p.chansip.Shutdown(sctx) // hang up calls in progress, refuse new ones
	err := p.sip.Shutdown(sctx)
	p.cdr.Shutdown(sctx)
	wg.Wait()
	p.media.Close() // the calls are gone: stop the pollers, drop the kernel's table
	if errors.Is(err, context.DeadlineExceeded) {
		p.log.Warn("shutdown timed out with requests in flight")
		return nil
	}
	return nil
}

// Reload re-reads the configuration. On any error the running configuration
// stays in place and the error names file:line.
func (p *PBX) Reload(ctx context.Context) ([]config.Diag, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	cfg, warns, err := pbxconf.Load(p.confDir)
	logDiags(p.log, warns)
	if err != nil {
		return warns, err
	}
	// Load everything before applying anything: one broken file keeps the
	// whole running configuration.
	dp, dpWarns, err := loadDialplan(p.confDir)
	logDiags(p.log, dpWarns)
	warns = append(warns, dpWarns...)
	if err != nil {
		return warns, err
	}
	maxCalls, acWarns, err := asteriskOptions(p.confDir)
	warns = append(warns, acWarns...)
	if err != nil {
		return warns, err
	}
	p.resolveTrunkHosts(ctx, cfg)
	if err := p.auth.update(cfg); err != nil {
		return warns, err
	}
	p.engine.Reload(dp)
	p.cfg.Store(cfg)
	p.reg.SetPolicy(policyOf(cfg))
	p.sip.SetUserAgent(cfg.UserAgent)
	for _, l := range cfg.Listeners {
		// New certificates apply to new connections; listeners themselves
		// are opened only at start.
		if l.TLS != nil {
			p.sip.SetTLS(l.Proto, l.Addr, l.TLS.Config)
		}
	}
	p.applyExternal(cfg.Listeners)
	p.chansip.SetConfig(sipConfig(cfg, maxCalls))
	p.syncTrunks(cfg)
	p.reload.Store(time.Now().UnixNano())
	p.log.Info("configuration reloaded", "endpoints", len(cfg.Endpoints.All()))
	return warns, nil
}

func (p *PBX) options(ctx context.Context, r *sipserver.Request) {
	r.Respond(200, "OK",
		sip.NewHeader("Allow", p.sip.Allow()),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Accept-Encoding", "identity"),
		sip.NewHeader("Accept-Language", "en"),
		sip.NewHeader("Supported", p.sip.Supported()),
	)
}

func logDiags(log *slog.Logger, ds []config.Diag) {
	for _, d := range ds {
		log.Warn("config", "diag", d.Error())
	}
}

func printDemo(w io.Writer, dir string, users []demo.User) {
	fmt.Fprintf(w, "\ngopbx demo configuration in %s\n", dir)
	fmt.Fprintf(w, "Point a softphone at this machine's address:\n")
	fmt.Fprintf(w, "  port 5060 (UDP or TCP), 5061 (TLS, self-signed %s), or ws://ADDRESS:8088/ws (WebSocket)\n\n",
		filepath.Join(dir, demo.CertFile))
	fmt.Fprintf(w, "  %-6s  %-14s  %s\n", "user", "password", "voicemail PIN")
	for _, u := range users {
		fmt.Fprintf(w, "  %-6s  %-14s  %s\n", u.Name, u.Password, u.PIN)
	}
	fmt.Fprintf(w, "\nDial 1000-1003 to call another demo phone, 600 for the echo test, 601 hello world,\n")
	fmt.Fprintf(w, "602 music on hold, 603 a small IVR, 604 to record and hear yourself.\n")
	fmt.Fprintf(w, "The dialplan is %s/extensions.conf.\n\n", dir)
}

// raiseFileLimit lifts RLIMIT_NOFILE to the hard limit: every TCP phone and
// every RTP socket is a descriptor, and the usual soft limit is 1024.
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("cannot raise the open file limit", "error", err)
		}
	}
}
