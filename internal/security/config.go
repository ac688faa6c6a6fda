package security

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// FileName is the gopbx-specific configuration file read from the
// configuration directory.
const FileName = "gopbx.conf"

// Config is the [security] section of gopbx.conf.
type Config struct {
	BanAfter      int           // ban_after_failures; 0 disables bans
	BanWindow     time.Duration // ban_window (seconds)
	BanTime       time.Duration // ban_time (seconds)
	InviteRate    float64       // invite_rate, new INVITEs/s per source; 0 disables
	OverloadWait  time.Duration // overload_wait (ms): a new INVITE that waited longer inside gopbx gets 503; 0 disables
	OverloadDelay time.Duration // overload_delay (ms): new INVITEs get 503 while the standing queue delay exceeds it; 0 disables
	Ignore        []netip.Prefix
	DropScanners  bool
}

// Defaults are the values used for options gopbx.conf does not set.
func Defaults() Config {
	return Config{
		BanAfter:      5,
		BanWindow:     60 * time.Second,
		BanTime:       600 * time.Second,
		InviteRate:    50,
		OverloadWait:  DefaultOverloadWait,
		OverloadDelay: DefaultOverloadDelay,
		DropScanners:  true,
	}
}

// DefaultOverloadWait is overload_wait's default. At the benchmark's
// highest clean B2BUA load (2,000 calls/s on two CPUs shared with SIPp)
// INVITEs sometimes wait a few hundred milliseconds (250 ms refused 20% of
// them there); a second means the callers have retransmitted twice and
// the queue is growing.
const DefaultOverloadWait = 1000 * time.Millisecond

// DefaultOverloadDelay is overload_delay's default. While the CPUs keep up
// the standing delay (the smallest wait of any request over two 100 ms
// intervals) stays within a few milliseconds, however bursty the traffic;
// a backlog raises it for every request. 50 ms refuses new calls long before the callers'
// first retransmission (T1, 500 ms), which is what turns an overload into
// a collapse: calls already in progress keep being served.
const DefaultOverloadDelay = 50 * time.Millisecond

// Load reads the [security] section of dir/gopbx.conf. A missing file gives
// the defaults; a bad value is an error naming file:line; unknown options
// and sections are warnings.
func Load(dir string) (Config, []config.Diag, error) {
	cfg := Defaults()
	path := filepath.Join(dir, FileName)
	f, diags, err := config.ParseFile(path, config.WithDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil, nil
	}
	if err != nil {
		return cfg, diags, err
	}
	var ds config.Diags
	ds.Append(diags)
	for _, sec := range f.All() {
		if !strings.EqualFold(sec.Name, "security") {
			ds.Warnf(sec.Pos, "section [%s] is not used by gopbx (only [security] is)", sec.Name)
			continue
		}
		for _, v := range sec.Vars {
			if !options[strings.ToLower(v.Name)] {
				ds.Warnf(v.Pos, "unknown option %s in [security] ignored", v.Name)
				continue
			}
			if err := cfg.set(v); err != nil {
				return cfg, ds.List(), config.Errorf(v.Pos, "%s: %v", v.Name, err)
			}
		}
	}
	return cfg, ds.List(), nil
}

var options = map[string]bool{
	"ban_after_failures": true, "ban_window": true, "ban_time": true,
	"invite_rate": true, "ban_ignore": true, "drop_scanners": true, "overload_wait": true, "overload_delay": true,
}

func (c *Config) set(v config.Var) error {
	val := strings.TrimSpace(v.Value)
	seconds := func() (time.Duration, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of seconds", val)
		}
		return time.Duration(n) * time.Second, nil
	}
	millis := func() (time.Duration, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of milliseconds", val)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	var err error
	switch strings.ToLower(v.Name) {
	case "ban_after_failures":
		c.BanAfter, err = strconv.Atoi(val)
		if err != nil || c.BanAfter < 0 {
			return fmt.Errorf("%q is not a count", val)
		}
	case "ban_window":
		c.BanWindow, err = seconds()
	case "ban_time":
		c.BanTime, err = seconds()
	case "invite_rate":
		c.InviteRate, err = strconv.ParseFloat(val, 64)
		if err != nil || c.InviteRate < 0 {
			return fmt.Errorf("%q is not a rate", val)
		}
	case "overload_wait":
		c.OverloadWait, err = millis()
	case "overload_delay":
		c.OverloadDelay, err = millis()
	case "ban_ignore":
		for _, s := range config.SplitList(val) {
			p, err := config.ParsePrefix(s)
			if err != nil {
				return err
			}
			c.Ignore = append(c.Ignore, p)
		}
	case "drop_scanners":
		c.DropScanners, err = config.ParseBool(val)
	}
	return err
}
