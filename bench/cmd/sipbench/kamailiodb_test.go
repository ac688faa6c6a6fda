package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKamailioDBLogErrors(t *testing.T) {
	log := ` 0(100) INFO: <core> [main.c:2100]: main(): processes (at least): 5 - shm size: 536870912 - pkg size: 16777216
 3(18702) ERROR: db_sqlite [dbase.c:528]: db_sqlite_commit(): sqlite commit failed: database is locked
 3(18702) ERROR: db_sqlite [dbase.c:177]: db_sqlite_cleanup_query(): finalize failed: database is locked
 3(18702) ERROR: usrloc [ucontact.c:687]: db_insert_ucontact(): inserting contact in db failed u0002 (uloc-6b0a0b3f-490e-1)
 3(18702) ERROR: usrloc [urecord.c:395]: insert_ucontact(): failed to insert in database
 2(18701) ERROR: usrloc [ucontact.c:1104]: db_update_ucontact_ruid(): updating database failed
 2(18701) ERROR: usrloc [ucontact.c:1559]: db_delete_ucontact_ruid(): deleting from database failed
 2(18701) ERROR: sl [sl_funcs.c:415]: sl_reply_error(): stateless error reply used: I'm terribly sorry, server error occurred (1/SL)
`
	path := filepath.Join(t.TempDir(), "kamailio.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	var u usrlocDB
	u.countLogErrors(path)
	if u.FailedWrites != 3 || u.DBErrors != 6 || !strings.Contains(u.FirstError, "sqlite commit failed") {
		t.Fatalf("got %+v", u)
	}
	if c := dbErrorCause(u.FirstError); c != "database is locked" {
		t.Fatalf("cause %q", c)
	}
}

// TestCreateUsrlocDB needs the schema of kamailio-sqlite-modules.
func TestCreateUsrlocDB(t *testing.T) {
	if err := kamailioDBReady(); err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), usrlocDBFile)
	if err := createUsrlocDB(path); err != nil {
		t.Fatal(err)
	}
	// Again over the same file: a fresh one.
	if err := createUsrlocDB(path); err != nil {
		t.Fatal(err)
	}
	var u usrlocDB
	if err := u.read(path); err != nil {
		t.Fatal(err)
	}
	if u.Rows != 0 || u.JournalMode != "delete" {
		t.Fatalf("got %+v", u)
	}
}

func TestReportThreeColumns(t *testing.T) {
	run := func(target int, clean bool, ms float64, db *usrlocDB) *runResult {
		return &runResult{Target: target, Clean: clean, CPUmsPerOp: ms, Successful: 100, UsrlocDB: db}
	}
	db := &usrlocDB{Children: 1, Rows: 1000, JournalMode: "delete"}
	g := &serverResult{Server: "gopbx", Label: "gopbx", BestRate: 2000,
		Steps: []*runResult{run(1000, true, 0.2, nil), run(2000, true, 0.1, nil)}}
	k := &serverResult{Server: "kamailio", Label: "Kamailio", BestRate: 2000,
		Steps: []*runResult{run(1000, true, 0.1, nil), run(2000, true, 0.05, nil)}}
	kdb := &serverResult{Server: "kamailio-db", Label: "Kamailio+SQLite", BestRate: 1000,
		Steps: []*runResult{run(1000, true, 0.5, db), run(2000, false, 0.6, db)}}
	for _, s := range []*serverResult{g, k, kdb} {
		s.Reps = []*runResult{s.Steps[len(s.Steps)-1]}
		if !s.Reps[0].Clean {
			s.Reps = []*runResult{s.Steps[0]}
		}
		s.summarise()
	}
	r := &results{Mode: "full (make bench)", Workloads: []*workloadResult{{Name: "register", Title: "REGISTER", Op: "registration", Servers: []*serverResult{g, k, kdb}}}}
	reportHas(t, r.markdown(),
		"| registration | gopbx | Kamailio | Kamailio+SQLite | gopbx/Kamailio | gopbx/Kamailio+SQLite |",
		"| max clean rate (registration/s) | **2,000** | **2,000** | **1,000** | 1.00 | 2.00 |",
		"| server CPU ms per registration at 2,000/s (highest step gopbx and Kamailio both ran clean) | 0.100 | 0.050 | | 2.00 | |",
		"| server CPU ms per registration at 1,000/s (highest step gopbx and Kamailio+SQLite both ran clean) | 0.200 | | 0.500 | | 0.40 |",
		"| usrloc SQLite: location rows after the run / failed writes | n/a (memory) | n/a (memory) | 1,000 / 0 |",
		"usrloc in db_mode 1 (write-through) on db_sqlite",
		"journal mode delete",
		"ratios are gopbx/Kamailio and gopbx/Kamailio+SQLite",
	)
}

// TestReportOverload: the overload run (twice the max clean rate) gets its
// sentence under the table and a row among the runs.
func TestReportOverload(t *testing.T) {
	best := &runResult{Target: 1500, Clean: true, CPUmsPerOp: 0.5, Successful: 12000, Achieved: 1493}
	over := &runResult{Target: 3000, Successful: 16000, Failed: 8000, Achieved: 1950,
		Refused: map[string]int{"503 Service Unavailable": 8000}, RTT: rttStats{P99: 640}}
	g := &serverResult{Server: "gopbx", Label: "gopbx", BestRate: 1500, Steps: []*runResult{best}, Reps: []*runResult{best}, Overload: over}
	g.summarise()
	r := &results{Mode: "full (make bench)", Workloads: []*workloadResult{{Name: "b2bua-calls", Title: "B2BUA", Op: "call", Servers: []*serverResult{g}}}}
	reportHas(t, r.markdown(),
		"**Overload** (gopbx, one run at twice the max clean rate): offered 3,000 call/s, 1,950 completed/s (130% of the max clean rate), 33.3% of the calls refused or failed (503 Service Unavailable ×8000), no socket drops, p99 setup 640 ms.",
		"| gopbx | overload (2× max clean) | 3,000 | 1,950 |",
	)
}

// reportHas fails the test for each of wants the report md lacks, and
// then shows the report.
func reportHas(t *testing.T, md string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// TestProxyContext: the B2BUA section names Kamailio's stateful proxy cost
// at the highest rate both ran clean, and nothing without a proxy run.
func TestProxyContext(t *testing.T) {
	run := func(target int, clean bool, ms float64) *runResult {
		return &runResult{Target: target, Clean: clean, CPUmsPerOp: ms, Successful: 100}
	}
	g := &serverResult{Server: "gopbx", Label: "gopbx", Steps: []*runResult{run(500, true, 0.8), run(1000, true, 0.6), run(2000, false, 0.5)}}
	k := &serverResult{Server: "kamailio", Label: "Kamailio", Steps: []*runResult{run(500, true, 0.9), run(1000, true, 0.8), run(2000, true, 0.7)}}
	r := &results{Workloads: []*workloadResult{
		{Name: "b2bua-calls", Servers: []*serverResult{g}},
		{Name: "proxy-calls", Servers: []*serverResult{k}},
	}}
	got := r.proxyContext(g)
	for _, want := range []string{"at 1,000 call/s", "B2BUA 0.600 ms", "stateful proxy", "0.800 ms", "gopbx/Kamailio 0.75"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if !strings.Contains(r.markdown(), got) {
		t.Error("the report does not carry the line")
	}
	r.Workloads = r.Workloads[:1]
	if got := r.proxyContext(g); got != "" {
		t.Errorf("without a proxy run: %q", got)
	}
}
