package cdr_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/cdr"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSVBackend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), cdr.CSVDirName)
	csv, err := cdr.NewCSV(dir, cdr.CSVFormat{UseGMTime: true, LogUniqueID: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	rec := func(acct, id string) cdr.Record {
		return cdr.Record{AccountCode: acct, Src: "1001", Start: start, End: start, UniqueID: id, AMAFlags: cdr.AMADocumentation}
	}
	line := func(acct, id string) string {
		r := rec(acct, id)
		return string(cdr.AppendCSV(nil, &r, cdr.CSVFormat{UseGMTime: true, LogUniqueID: true}))
	}
	ctx := context.Background()
	if err := csv.Log(ctx, []cdr.Record{rec("acme", "1.1"), rec("", "1.2"), rec("acme", "1.3")}); err != nil {
		t.Fatal(err)
	}
	err = csv.Log(ctx, []cdr.Record{rec("other", "1.4"), rec("../etc/passwd", "1.5"), rec(".hidden", "1.6")})
	if err == nil || !strings.Contains(err.Error(), `"../etc/passwd" is unsafe`) || !strings.Contains(err.Error(), `".hidden" is unsafe`) {
		t.Errorf("Log with unsafe account codes: %v", err)
	}

	if got, want := readFile(t, filepath.Join(dir, "Master.csv")),
		line("acme", "1.1")+line("", "1.2")+line("acme", "1.3")+line("other", "1.4")+line("../etc/passwd", "1.5")+line(".hidden", "1.6"); got != want {
		t.Errorf("Master.csv:\n%s\nwant\n%s", got, want)
	}
	if got, want := readFile(t, filepath.Join(dir, "acme.csv")), line("acme", "1.1")+line("acme", "1.3"); got != want {
		t.Errorf("acme.csv:\n%s\nwant\n%s", got, want)
	}
	if got, want := readFile(t, filepath.Join(dir, "other.csv")), line("other", "1.4"); got != want {
		t.Errorf("other.csv:\n%s\nwant\n%s", got, want)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files %v, want Master.csv, acme.csv, other.csv", names)
	}
}

func TestCSVNoAccountLogs(t *testing.T) {
	dir := t.TempDir()
	csv, err := cdr.NewCSV(dir, cdr.CSVFormat{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := csv.Log(context.Background(), []cdr.Record{{AccountCode: "acme"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "acme.csv")); !os.IsNotExist(err) {
		t.Errorf("acme.csv written with accountlogs=no (%v)", err)
	}
}

// Like cdr_csv, the backend opens its files for each batch: when
// logrotate renames or removes Master.csv while gopbx runs, the next
// records go to a new Master.csv, and none are lost in the old one.
func TestCSVRotated(t *testing.T) {
	dir := t.TempDir()
	f := cdr.CSVFormat{UseGMTime: true, LogUniqueID: true}
	csv, err := cdr.NewCSV(dir, f, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	rec := func(id string) cdr.Record {
		return cdr.Record{AccountCode: "acme", Start: t0, End: t0, UniqueID: id}
	}
	line := func(id string) string {
		r := rec(id)
		return string(cdr.AppendCSV(nil, &r, f))
	}
	log := func(ids ...string) {
		t.Helper()
		var recs []cdr.Record
		for _, id := range ids {
			recs = append(recs, rec(id))
		}
		if err := csv.Log(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	master, acct := filepath.Join(dir, cdr.MasterFile), filepath.Join(dir, "acme.csv")
	log("1", "2")
	for _, p := range []string{master, acct} {
		if err := os.Rename(p, p+".1"); err != nil {
			t.Fatal(err)
		}
	}
	log("3")
	if err := os.Remove(master); err != nil {
		t.Fatal(err)
	}
	log("4", "5")
	for path, want := range map[string]string{
		master + ".1": line("1") + line("2"),
		acct + ".1":   line("1") + line("2"),
		master:        line("4") + line("5"),
		acct:          line("3") + line("4") + line("5"),
	} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", filepath.Base(path), got, want)
		}
	}
}

// The whole path: a call through the collector lands in Master.csv.
func TestCollectorToCSV(t *testing.T) {
	dir := filepath.Join(t.TempDir(), cdr.CSVDirName)
	cfg := cdr.Default()
	csv, err := cdr.NewCSV(dir, *cfg.CSV, cfg.AccountLogs)
	if err != nil {
		t.Fatal(err)
	}
	p := newPBX(t, cfg, cdr.WithBackend("csv", csv))
	in := p.incoming("1002", "Dial", "PJSIP/1002,30")
	out := p.dial(in, "1002")
	out.Gone(17)
	in.SetVar("DIALSTATUS", "BUSY")
	in.Hangup(17)
	p.shutdown()
	r := p.rec.all()[0]
	want := string(cdr.AppendCSV(nil, &r, *cfg.CSV))
	if !strings.Contains(want, `,"BUSY","DOCUMENTATION","`+in.UniqueID()+`",""`+"\n") {
		t.Errorf("line %q lacks the disposition, uniqueid and userfield", want)
	}
	if got := readFile(t, filepath.Join(dir, "Master.csv")); got != want {
		t.Errorf("Master.csv %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "acme.csv")); got != want {
		t.Errorf("acme.csv %q, want %q", got, want)
	}
}
