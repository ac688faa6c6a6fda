package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // creates and reads kamailio-db's usrloc file
)

// Server kamailio-db is Kamailio on bench/kamailio/registrar-sqlite.cfg:
// the same digest registrar as "kamailio", with usrloc writing every
// registration through to SQLite (db_mode 1, db_sqlite) before the 200,
// as gopbx commits new bindings (gopbx writes a refresh only when the
// stored row needs it). Each step gets a fresh database
// file in its run directory, created here from the schema that
// kamailio-sqlite-modules ships; after the run sipbench counts the rows of
// the location table and the failed writes Kamailio logged.

// kamailioSQLiteSchema holds the db_sqlite schema files of the Debian
// package kamailio-sqlite-modules (the version table, then usrloc's
// location table, table version 9 in Kamailio 5.6).
const kamailioSQLiteSchema = "/usr/share/kamailio/db_sqlite"

var kamailioSchemaFiles = []string{"standard-create.sql", "usrloc-create.sql"}

// usrlocDBFile is the SQLite file in a run directory.
const usrlocDBFile = "usrloc.sqlite"

// kamailioDBReady says what is missing for kamailio-db.
func kamailioDBReady() error {
	for _, f := range kamailioSchemaFiles {
		if _, err := os.Stat(filepath.Join(kamailioSQLiteSchema, f)); err != nil {
			return fmt.Errorf("kamailio-sqlite-modules not installed (make test-deps installs it): %w", err)
		}
	}
	return nil
}

func startKamailioDB(b *bench, s *server, w workload, dir string) (*proc, error) {
	path := filepath.Join(dir, usrlocDBFile)
	if err := createUsrlocDB(path); err != nil {
		return nil, fmt.Errorf("kamailio-db: creating %s: %w", path, err)
	}
	return startKamailioCfg(b, s, w, dir, b.kamailioDBCfg,
		"-A", fmt.Sprintf("BENCH_USRLOC_DB_URL=\"sqlite://%s\"", path),
		"-A", fmt.Sprintf("BENCH_DB_CHILDREN=%d", b.kamailioDBChildren))
}

// createUsrlocDB creates the SQLite file Kamailio's usrloc writes to, with
// the version and location tables of the package's schema. It sets no
// pragma: the file keeps SQLite's defaults (rollback journal), which is
// what db_sqlite opens it with too.
func createUsrlocDB(path string) error {
	var schema strings.Builder
	for _, f := range kamailioSchemaFiles {
		sqlText, err := os.ReadFile(filepath.Join(kamailioSQLiteSchema, f))
		if err != nil {
			return err
		}
		schema.Write(sqlText)
		schema.WriteString("\n")
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, schema.String()); err != nil {
		return err
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT table_version FROM version WHERE table_name = 'location'").Scan(&v); err != nil {
		return fmt.Errorf("schema without location's version row: %w", err)
	}
	return nil
}

// usrlocDB is what a kamailio-db run left in its database and log.
type usrlocDB struct {
	// Children is Kamailio's number of UDP workers (children=).
	Children int `json:"sip_workers"`
	// Rows is the number of rows in the location table after the run
	// (each user's contact is one row, updated by its next registrations:
	// 1,000 once every user has registered).
	Rows int64 `json:"location_rows"`
	// JournalMode is PRAGMA journal_mode read from the file after the run
	// (WAL persists in the file; anything else reads as the default,
	// "delete", unless Kamailio's connection set it).
	JournalMode string `json:"journal_mode"`
	// FailedWrites counts usrloc's failed inserts, updates and deletes of
	// a contact in the database (kamailio.log); the registrar answers such
	// a registration 500.
	FailedWrites int64 `json:"failed_writes"`
	// DBErrors counts every error line of db_sqlite and usrloc.
	DBErrors int64 `json:"db_error_lines"`
	// FirstError is the first such line.
	FirstError string `json:"first_error,omitempty"`
	Error      string `json:"error,omitempty"`
}

func kamailioDBAfterRun(b *bench, dir string, r *runResult) {
	u := &usrlocDB{Children: b.kamailioDBChildren}
	r.UsrlocDB = u
	if err := u.read(filepath.Join(dir, usrlocDBFile)); err != nil {
		u.Error = err.Error()
	}
	u.countLogErrors(filepath.Join(dir, "kamailio.log"))
}

func (u *usrlocDB) read(path string) error {
	// sipbench stopped Kamailio first; wait for a lock rather than fail all
	// the same.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM location").Scan(&u.Rows); err != nil {
		return err
	}
	return db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&u.JournalMode)
}

// countLogErrors counts the error lines of usrloc and db_sqlite in
// Kamailio's log.
func (u *usrlocDB) countLogErrors(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "ERROR:") || !(strings.Contains(line, "usrloc") || strings.Contains(line, "db_sqlite")) {
			continue
		}
		u.DBErrors++
		if u.FirstError == "" {
			u.FirstError = strings.TrimSpace(line)
		}
		// ucontact.c: db_insert_ucontact(), db_update_ucontact_*(),
		// db_delete_ucontact_*() log one line per failed statement.
		if strings.Contains(line, "usrloc") && strings.Contains(line, "failed") &&
			(strings.Contains(line, "db_insert_ucontact") || strings.Contains(line, "db_update_ucontact") || strings.Contains(line, "db_delete_ucontact")) {
			u.FailedWrites++
		}
	}
}

// kamailioDBText explains the Kamailio+SQLite column of the register
// workload, with the SQLite settings its runs had.
func kamailioDBText(s *serverResult) string {
	var modes []string
	children := 0
	for _, r := range append(append([]*runResult{}, s.Steps...), s.Reps...) {
		if u := r.UsrlocDB; u != nil {
			if u.JournalMode != "" && !slices.Contains(modes, u.JournalMode) {
				modes = append(modes, u.JournalMode)
			}
			children = u.Children
		}
	}
	journal := "SQLite's default (delete)"
	if len(modes) > 0 {
		journal = strings.Join(modes, ", ") + " (read from the file after each run)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (server kamailio-db, bench/kamailio/registrar-sqlite.cfg) is the same Kamailio and digest registrar with usrloc in db_mode 1 (write-through) on db_sqlite: "+
		"every registration is written to the location table of a SQLite file (a fresh one per run) before the 200. "+
		"gopbx commits a new binding or a removal before its 200 too, but a refresh only when its stored row has less than half of the new period left, else within a minute "+
		"(docs/operations.md): in this workload each user re-registers many times within its hour, so after the first registration of each user gopbx writes almost none, "+
		"where Kamailio+SQLite writes them all. ", s.Label)
	fmt.Fprintf(&b, "SQLite runs as Kamailio 5.6's db_sqlite leaves it: journal mode %s, synchronous FULL (the library's default: db_sqlite sets no PRAGMA) and no busy timeout", journal)
	switch {
	case children == 1:
		b.WriteString(", so it runs 1 SIP worker (children=1, not 4): workers writing at the same time get \"database is locked\" and the registrar answers 500 (sipbench -kamailio-db-children 4 shows it).")
	case children > 1:
		fmt.Fprintf(&b, "; it runs %d SIP workers, which get \"database is locked\" when they write at the same time (the registrar then answers 500).", children)
	default:
		b.WriteString(".")
	}
	return b.String()
}

// dbErrorCause is the end of a db_sqlite error line ("database is
// locked"), or the line.
func dbErrorCause(line string) string {
	if i := strings.LastIndex(line, ": "); i >= 0 {
		return line[i+2:]
	}
	return line
}
