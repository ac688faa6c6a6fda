package pbx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/media"
)

// loadRTPConf reads rtp.conf [general] rtpstart/rtpend (Asterisk's
// defaults 10000-20000 when the file or a key is missing) and the RTP
// timers of sip.conf [general] (rtptimeout, rtpholdtimeout, in seconds).
func loadRTPConf(dir string) (media.Config, []config.Diag, error) {
	cfg := media.DefaultConfig()
	var all []config.Diag
	num := func(v config.Var, min, max int) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("%s: %s %q must be a number from %d to %d", v.Pos, v.Name, v.Value, min, max)
		}
		return n, nil
	}
	read := func(name, section string, apply func(config.Var) error) error {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		f, diags, err := config.ParseFile(path, config.WithDir(dir))
		all = append(all, diags...)
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
		}
		return err
	})
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
