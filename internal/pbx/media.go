package pbx

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/config/pbxconf"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/moh"
	"github.com/gopbx/gopbx/internal/sipserver"
	"github.com/gopbx/gopbx/internal/sound"
	"github.com/gopbx/gopbx/internal/tones"
	"github.com/gopbx/gopbx/sounds"
)

// loadRTPConf reads rtp.conf [general] rtpstart/rtpend (Asterisk's
// defaults 10000-20000 when the file or a key is missing), gopbx's
// kernelforward/kerneltable (in-kernel forwarding of bridged RTP) and the RTP
// timers of sip.conf [general] (rtptimeout, rtpholdtimeout, in seconds).
func loadRTPConf(dir string) (media.Config, []config.Diag, error) {
	cfg := media.DefaultConfig()
	var all []config.Diag
	kernel, table := false, "gopbx"
	num := func(v config.Var, min, max int) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("%s: %s %q must be a number from %d to %d", v.Pos, v.Name, v.Value, min, max)
		}
		return n, nil
	}
	read := func(name, section string, apply func(config.Var) error) error {
		f, diags, err := config.ParseFile(filepath.Join(dir, name), config.WithDir(dir))
		all = append(all, diags...)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		s := f.Section(section)
		if s == nil {
			return nil
		}
		for _, v := range s.Vars {
			if err := apply(v); err != nil {
				return err
			}
		}
		return nil
	}
	err := read("rtp.conf", "general", func(v config.Var) (err error) {
		switch strings.ToLower(v.Name) {
		case "rtpstart":
			cfg.Start, err = num(v, 1024, 65535)
		case "rtpend":
			cfg.End, err = num(v, 1024, 65535)
		case "kernelforward": // gopbx: bridged RTP forwarded by nftables
			on, perr := config.ParseBool(v.Value)
			if perr != nil {
				return fmt.Errorf("%s: kernelforward %q must be yes or no", v.Pos, v.Value)
			}
			kernel = on
		case "kerneltable":
			if !validTable(v.Value) {
				return fmt.Errorf("%s: kerneltable %q must be 1 to 32 letters, digits or _", v.Pos, v.Value)
			}
			table = v.Value
		}
		return err
	})
	if kernel {
		cfg.KernelTable = table
	}
	if err != nil {
		return cfg, all, err
	}
	err = read("sip.conf", "general", func(v config.Var) error {
		switch strings.ToLower(v.Name) {
		case "rtptimeout":
			n, err := num(v, 0, 86400)
			cfg.Timeout = time.Duration(n) * time.Second
			return err
		case "rtpholdtimeout":
			n, err := num(v, 0, 86400)
			cfg.HoldTimeout = time.Duration(n) * time.Second
			return err
		}
		return nil
	})
	if err != nil {
		return cfg, all, err
	}
	if cfg.End <= cfg.Start {
		return cfg, all, fmt.Errorf("rtp.conf: rtpend %d is not above rtpstart %d", cfg.End, cfg.Start)
	}
	return cfg, all, nil
}

// validTable accepts a safe nftables table name.
func validTable(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// mediaEnv builds what the voice applications play from: prompts from
// <conf>/sounds, <data>/sounds (recordings), /var/lib/asterisk/sounds and
// the shipped set; indications.conf or the built-in zones; musiconhold.conf
// or the shipped music.
func (p *PBX) mediaEnv() (*app.MediaEnv, error) {
	recDir := filepath.Join(p.opts.DataDir, "sounds")
	finder := &sound.Finder{
		Dirs:     []string{filepath.Join(p.confDir, "sounds"), recDir, "/var/lib/asterisk/sounds"},
		Embedded: sounds.FS(),
	}
	zones, diags, err := tones.LoadConf(filepath.Join(p.confDir, "indications.conf"), config.WithDir(p.confDir))
	logDiags(p.log, diags)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		zones = tones.Defaults()
	case err != nil:
		return nil, fmt.Errorf("indications.conf: %w", err)
	}
	builtin, err := fs.Sub(sounds.FS(), "moh")
	if err != nil {
		return nil, fmt.Errorf("shipped music: %w", err)
	}
	classes, diags, err := moh.Load(p.confDir, []string{p.opts.DataDir, p.confDir, "/var/lib/asterisk"}, builtin)
	logDiags(p.log, diags)
	if err != nil {
		return nil, fmt.Errorf("musiconhold.conf: %w", err)
	}
	env := app.NewMediaEnv(finder, zones, classes)
	env.RecordDir = recDir
	return env, nil
}

// holdMusic plays music on hold to the party whose peer put the call on
// hold, and stops it when the call is taken off hold.
func (p *PBX) holdMusic(env *app.MediaEnv) func(ch *channel.Channel, held bool) {
	return func(ch *channel.Channel, held bool) {
		peer := ch.Bridged()
		if peer == nil {
			return
		}
		if !held {
			env.StopGenerator(peer)
			return
		}
		class, _ := peer.Var("MOH_CLASS")
		src, err := env.MOH.Open(class)
		if err != nil {
			p.log.Warn("music on hold", "chan", peer.Name(), "error", err)
			return
		}
		if err := env.StartGenerator(peer, src); err != nil {
			p.log.Debug("music on hold: no media", "chan", peer.Name(), "error", err)
		}
	}
}

// applyExternal gives the SIP server each listener's external addresses
// (gopbx behind NAT), at start and on reload.
func (p *PBX) applyExternal(ls []pbxconf.Listener) {
	m := map[string]sipserver.External{}
	for _, l := range ls {
		if l.ExternalSignaling == "" && l.ExternalMedia == "" {
			continue
		}
		m[l.Addr] = sipserver.External{Signaling: l.ExternalSignaling, Media: l.ExternalMedia, LocalNets: l.LocalNets}
	}
	p.sip.SetExternal(m)
}
