package pbx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/chansip"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/demo"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/media"

	_ "github.com/gopbx/gopbx/internal/app/all" // the standard applications
)

// loadDialplan reads extensions.conf from dir; a missing file is an empty
// dialplan (every call gets 404), as Asterisk without pbx_config.
func loadDialplan(dir string) (*dialplan.Dialplan, []config.Diag, error) {
	dp, diags, err := dialplan.Load(filepath.Join(dir, "extensions.conf"), config.WithDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return dialplan.Parse("extensions.conf", nil)
	}
	return dp, diags, err
}

// dpExists adapts the engine to chansip.Dialplan.
type dpExists struct{ eng *dialplan.Engine }

func (d dpExists) Exists(context, exten, callerID string) (bool, bool) {
	dp := d.eng.Dialplan()
	_, ok := dp.Match(context, exten, callerID)
	if ok {
		return true, false
	}
	return false, dp.MatchMore(context, exten, callerID)
}

func sipConfig(c *pbxconf.PBX, maxCalls int) *chansip.Config {
	return &chansip.Config{
		Endpoints:    c.Endpoints,
		AllowGuest:   c.AllowGuest,
		GuestContext: c.DefaultContext,
		UserAgent:    c.UserAgent,
		MaxCalls:     maxCalls,
	}
}

// asteriskOptions reads what gopbx uses of asterisk.conf's [options]:
// maxcalls (new calls beyond it get 503 with Retry-After). A missing file
// means no limit, as in Asterisk.
func asteriskOptions(dir string) (maxCalls int, diags []config.Diag, err error) {
	f, diags, err := config.ParseFile(filepath.Join(dir, "asterisk.conf"), config.WithDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, diags, err
	}
	if s := f.Section("options"); s != nil {
		if v, ok := s.Var("maxcalls"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v.Value))
			if err != nil || n < 0 {
				return 0, diags, fmt.Errorf("%s: maxcalls %q is not a number", v.Pos, v.Value)
			}
			maxCalls = n
		}
	}
	return maxCalls, diags, nil
}

// setupCalls builds the channel core, the dialplan engine, the SIP channel
// driver and the CDR collector.
func (p *PBX) setupCalls(ctx context.Context) error {
	p.chans = channel.NewRegistry(p.log)
	p.chans.Subscribe(func(u channel.Update) {
		if u.Kind == channel.UpdHangup && u.Channel.Direction() == channel.Inbound {
			p.processed.Add(1)
		}
	})

	ccfg, diags, err := cdr.Load(filepath.Join(p.confDir, "cdr.conf"))
	logDiags(p.log, diags)
	if err != nil {
		return fmt.Errorf("pbx: cdr.conf: %w", err)
	}
	opts := []cdr.Option{cdr.WithLogger(p.log)}
	if ccfg.CSV != nil {
		csv, err := cdr.NewCSV(filepath.Join(p.opts.DataDir, cdr.CSVDirName), *ccfg.CSV, ccfg.AccountLogs)
		if err != nil {
			return fmt.Errorf("pbx: cdr csv: %w", err)
		}
		opts = append(opts, cdr.WithBackend("csv", csv))
	}
	opts = append(opts, cdr.WithBackend("sqlite", cdr.StoreBackend(p.db.CDRs())))
	p.cdr = cdr.New(p.chans, ccfg, opts...)

	dp, diags, err := loadDialplan(p.confDir)
	logDiags(p.log, diags)
	if err != nil {
		return fmt.Errorf("pbx: extensions.conf: %w", err)
	}
	menv, err := p.mediaEnv()
	if err != nil {
		return fmt.Errorf("pbx: %w", err)
	}
	p.menv = menv
	p.engine, err = dialplan.NewEngine(dp, dialplan.WithLogger(p.log), dialplan.WithRegistry(p.chans), dialplan.WithMedia(menv))
	if err != nil {
		return fmt.Errorf("pbx: dialplan: %w", err)
	}
	maxCalls, diags, err := asteriskOptions(p.confDir)
	logDiags(p.log, diags)
	if err != nil {
		return fmt.Errorf("pbx: asterisk.conf: %w", err)
	}
	p.chansip = chansip.New(p.sip, p.chans, p.store, p.auth, dpExists{p.engine}, p.engine.Run, sipConfig(p.current(), maxCalls), p.log)

	mcfg, diags, err := loadRTPConf(p.confDir)
	logDiags(p.log, diags)
	if err != nil {
		return fmt.Errorf("pbx: %w", err)
	}
	if p.media, err = media.NewManager(mcfg, p.log); err != nil {
		return fmt.Errorf("pbx: %w", err)
	}
	p.chansip.SetMedia(p.media)
	p.chansip.SetHoldHandler(p.holdMusic(menv))
	return nil
}

// DialplanTest runs `gopbx dialplan test` offline: it loads extensions.conf
// from confDir (the demo's when empty) and prints which priorities a call
// to exten in context would run, without starting anything.
func DialplanTest(confDir, dataDir string, w io.Writer, context, exten, callerID string) error {
	if confDir == "" {
		dir, _, err := demo.Setup(dataDir)
		if err != nil {
			return err
		}
		confDir = dir
	}
	dp, diags, err := loadDialplan(confDir)
	for _, d := range diags {
		fmt.Fprintf(w, "WARNING: %s\n", d.Error())
	}
	if err != nil {
		return err
	}
	return dialplan.Test(w, dp, context, exten, callerID)
}
