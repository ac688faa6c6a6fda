package cdr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/config"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cdr.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMissing(t *testing.T) {
	cfg, diags, err := cdr.Load(filepath.Join(t.TempDir(), "cdr.conf"))
	if err != nil || len(diags) != 0 {
		t.Fatalf("Load: %v %v", err, diags)
	}
	want := cdr.Default()
	if !cfg.Enable || cfg.Unanswered || cfg.Congestion || !cfg.EndBeforeHExten || cfg.Batch ||
		cfg.CSV == nil || *cfg.CSV != *want.CSV || !cfg.AccountLogs {
		t.Errorf("got %+v csv %+v, want the defaults", cfg, cfg.CSV)
	}
	if f := *cfg.CSV; f.UseGMTime || !f.LogUniqueID || !f.LogUserField || f.NewCDRColumns {
		t.Errorf("default [csv] = %+v, want uniqueid and userfield in local time", f)
	}
}

func TestLoad(t *testing.T) {
	path := writeConf(t, `
[general]
enable = yes
unanswered = yes
congestion = yes
endbeforehexten = yes
initiatedseconds = yes
canceldispositionenabled = yes
batch = yes
size = 50
time = 60
scheduleronly = no
safeshutdown = yes
ignorestatechanges = no
ignoredialchanges = yes
frobnicate = 1

[csv]
usegmtime = yes
loguniqueid = yes
loguserfield = no
accountlogs = no
newcdrcolumns = yes
colour = blue

[radius]
usegmtime = yes
`)
	cfg, diags, err := cdr.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enable || !cfg.Unanswered || !cfg.Congestion || !cfg.InitiatedSeconds || !cfg.CancelDisposition ||
		!cfg.Batch || cfg.BatchSize != 50 || cfg.BatchTime != time.Minute || !cfg.IgnoreDialChanges || cfg.IgnoreStateChanges {
		t.Errorf("general: %+v", cfg)
	}
	if cfg.CSV == nil || *cfg.CSV != (cdr.CSVFormat{UseGMTime: true, LogUniqueID: true, NewCDRColumns: true}) || cfg.AccountLogs {
		t.Errorf("csv: %+v accountlogs %v", cfg.CSV, cfg.AccountLogs)
	}
	wantDiags := []string{
		path + `:16: cdr.conf: unknown option "frobnicate" in [general]`,
		path + `:24: cdr.conf: unknown option "colour" in [csv]`,
		path + `:26: cdr.conf: section [radius] ignored`,
	}
	checkDiags(t, diags, wantDiags)
}

func checkDiags(t *testing.T, diags []config.Diag, want []string) {
	t.Helper()
	if len(diags) != len(want) {
		t.Errorf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
		return
	}
	for i, d := range diags {
		if !strings.Contains(d.Error(), want[i]) {
			t.Errorf("diag %d: %q, want it to contain %q", i, d.Error(), want[i])
		}
	}
}

// As cdr_csv: an option [csv] leaves out is off (accountlogs on), and no
// [csv] section means no csv backend.
func TestLoadCSVDefaults(t *testing.T) {
	cfg, diags, err := cdr.Load(writeConf(t, "[csv]\n"))
	if err != nil || len(diags) != 0 {
		t.Fatal(err, diags)
	}
	if cfg.CSV == nil || *cfg.CSV != (cdr.CSVFormat{}) || !cfg.AccountLogs {
		t.Errorf("empty [csv]: %+v accountlogs %v", cfg.CSV, cfg.AccountLogs)
	}
	cfg, _, err = cdr.Load(writeConf(t, "[general]\nenable=yes\n"))
	if err != nil || cfg.CSV != nil {
		t.Errorf("no [csv]: csv %+v, %v; want none", cfg.CSV, err)
	}
}

func TestLoadBadValues(t *testing.T) {
	path := writeConf(t, `[general]
unanswered = perhaps
size = 5000
time = 0
endbeforehexten = no
`)
	cfg, diags, err := cdr.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Unanswered || cfg.BatchSize != 100 || cfg.BatchTime != 300*time.Second {
		t.Errorf("got unanswered %v size %d time %v; want no, 100, 300s", cfg.Unanswered, cfg.BatchSize, cfg.BatchTime)
	}
	checkDiags(t, diags, []string{
		path + `:2: cdr.conf: unanswered: "perhaps" is not yes or no; taken as no`,
		path + `:3: cdr.conf: size=5000: want a number from 0 to 1000`,
		path + `:4: cdr.conf: time=0: want a number from 1 to 86400`,
		path + `:5: cdr.conf: endbeforehexten=no is not supported`,
	})
}

func TestLoadSyntaxError(t *testing.T) {
	path := writeConf(t, "[general\nenable=yes\n")
	if _, _, err := cdr.Load(path); err == nil || !strings.Contains(err.Error(), path+":1") {
		t.Errorf("Load: %v, want an error at %s:1", err, path)
	}
}
