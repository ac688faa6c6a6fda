package cdr

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// Config is cdr.conf: the engine's [general] options and the csv
// backend's [csv] section.
type Config struct {
	// Path is the file it was read from; empty for Default.
	Path string

	Enable     bool // enable: log CDRs at all (yes)
	Unanswered bool // unanswered: log unanswered calls that dialled nobody (no)
	Congestion bool // congestion: CONGESTION instead of FAILED (no)
	// EndBeforeHExten (endbeforehexten, yes) ends the record before the h
	// extension runs. gopbx always does: it writes the record when the
	// channel hangs up.
	EndBeforeHExten bool
	// InitiatedSeconds (initiatedseconds, no) rounds billsec up from half a
	// second.
	InitiatedSeconds bool
	// CancelDisposition (canceldispositionenabled, no) logs a call the
	// caller abandoned while Dial rang as CANCEL instead of NO ANSWER.
	CancelDisposition bool
	// ChannelDefaultEnabled, IgnoreStateChanges, IgnoreDialChanges and Debug
	// are read for `cdr show status`. gopbx writes one record per call,
	// which is what ignorestatechanges and ignoredialchanges ask for.
	ChannelDefaultEnabled bool
	IgnoreStateChanges    bool
	IgnoreDialChanges     bool
	Debug                 bool

	// Batch (batch, no) holds records until BatchSize are waiting or
	// BatchTime has passed. Without it records are written as they come:
	// those of the calls that hung up within the collector's 10 ms gather
	// window (see Collector) or while the previous write ran go together.
	Batch         bool
	BatchSize     int           // size (100, at most 1000)
	BatchTime     time.Duration // time (300s, 1s to 86400s)
	SchedulerOnly bool          // scheduleronly: accepted, no effect
	SafeShutdown  bool          // safeshutdown (yes): accepted; gopbx always flushes at shutdown

	// CSV is the [csv] section, nil without one: then, as in Asterisk, no
	// Master.csv is written.
	CSV *CSVFormat
	// AccountLogs (accountlogs, yes) also appends each record to
	// <accountcode>.csv next to Master.csv.
	AccountLogs bool
}

// Default is the configuration without a cdr.conf: Asterisk's defaults,
// with the [csv] section of Asterisk's sample cdr.conf (uniqueid and
// userfield logged, local time), so a fresh install writes Master.csv.
func Default() *Config {
	c := defaults()
	c.CSV = &CSVFormat{LogUniqueID: true, LogUserField: true}
	c.AccountLogs = true
	return c
}

// defaults are the values of options a cdr.conf leaves out.
func defaults() *Config {
	return &Config{
		Enable:                true,
		EndBeforeHExten:       true,
		ChannelDefaultEnabled: true,
		BatchSize:             100,
		BatchTime:             300 * time.Second,
		SafeShutdown:          true,
	}
}

// Load reads cdr.conf at path. A missing file gives Default and no error.
// Unknown options and bad values are warnings citing file:line (a bad
// value leaves the option at its default); a file that cannot be parsed is
// an error.
func Load(path string, opts ...config.Option) (*Config, []config.Diag, error) {
	f, diags, err := config.ParseFile(path, opts...)
	if err != nil {
		var d *config.Diag
		if errors.Is(err, fs.ErrNotExist) && !errors.As(err, &d) {
			return Default(), diags, nil
		}
		if errors.As(err, &d) {
			return nil, diags, err
		}
		return nil, diags, fmt.Errorf("cdr: %w", err)
	}
	c, more := FromFile(f)
	return c, append(diags, more...), nil
}

// FromFile builds a Config from a parsed cdr.conf.
func FromFile(f *config.File) (*Config, []config.Diag) {
	c := defaults()
	c.Path = f.Path
	var ds config.Diags
	for _, s := range f.All() {
		switch strings.ToLower(s.Name) {
		case "general":
			c.general(s, &ds)
		case "csv":
			c.csv(s, &ds)
		default:
			ds.Warnf(s.Pos, "cdr.conf: section [%s] ignored: gopbx has no such CDR backend", s.Name)
		}
	}
	if !c.EndBeforeHExten {
		if v, ok := f.Section("general").Var("endbeforehexten"); ok {
			ds.Warnf(v.Pos, "cdr.conf: endbeforehexten=no is not supported: records end when the channel hangs up")
		}
	}
	if !c.ChannelDefaultEnabled {
		if v, ok := f.Section("general").Var("channeldefaultenabled"); ok {
			ds.Warnf(v.Pos, "cdr.conf: channeldefaultenabled=no is not supported: every call is logged")
		}
	}
	return c, ds.List()
}

func (c *Config) general(s *config.Section, ds *config.Diags) {
	flag := map[string]*bool{
		"enable":                   &c.Enable,
		"unanswered":               &c.Unanswered,
		"congestion":               &c.Congestion,
		"endbeforehexten":          &c.EndBeforeHExten,
		"initiatedseconds":         &c.InitiatedSeconds,
		"canceldispositionenabled": &c.CancelDisposition,
		"channeldefaultenabled":    &c.ChannelDefaultEnabled,
		"ignorestatechanges":       &c.IgnoreStateChanges,
		"ignoredialchanges":        &c.IgnoreDialChanges,
		"debug":                    &c.Debug,
		"batch":                    &c.Batch,
		"scheduleronly":            &c.SchedulerOnly,
		"safeshutdown":             &c.SafeShutdown,
	}
	for _, v := range s.Vars {
		name := strings.ToLower(v.Name)
		if p, ok := flag[name]; ok {
			*p = boolValue(v, ds)
			continue
		}
		switch name {
		case "size":
			if n, ok := uintValue(v, 0, 1000, ds); ok {
				c.BatchSize = n
			}
		case "time":
			if n, ok := uintValue(v, 1, 86400, ds); ok {
				c.BatchTime = time.Duration(n) * time.Second
			}
		default:
			ds.Warnf(v.Pos, "cdr.conf: unknown option %q in [general]", v.Name)
		}
	}
}

// csv reads [csv] as cdr_csv's load_config: an option the section leaves
// out is off, except accountlogs.
func (c *Config) csv(s *config.Section, ds *config.Diags) {
	f := &CSVFormat{}
	c.AccountLogs = true
	for _, v := range s.Vars {
		switch strings.ToLower(v.Name) {
		case "usegmtime":
			f.UseGMTime = boolValue(v, ds)
		case "loguniqueid":
			f.LogUniqueID = boolValue(v, ds)
		case "loguserfield":
			f.LogUserField = boolValue(v, ds)
		case "accountlogs":
			c.AccountLogs = boolValue(v, ds)
		case "newcdrcolumns":
			f.NewCDRColumns = boolValue(v, ds)
		default:
			ds.Warnf(v.Pos, "cdr.conf: unknown option %q in [csv]", v.Name)
		}
	}
	c.CSV = f
}

// boolValue is ast_true, as Asterisk reads these options: anything that is
// not yes is no. A value that is neither also gets a warning.
func boolValue(v config.Var, ds *config.Diags) bool {
	b, err := config.ParseBool(v.Value)
	if err != nil {
		ds.Warnf(v.Pos, "cdr.conf: %s: %v; taken as no", v.Name, err)
	}
	return b
}

func uintValue(v config.Var, lo, hi int, ds *config.Diags) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v.Value))
	if err != nil || n < lo || n > hi {
		ds.Warnf(v.Pos, "cdr.conf: %s=%s: want a number from %d to %d; option ignored", v.Name, v.Value, lo, hi)
		return 0, false
	}
	return n, true
}
