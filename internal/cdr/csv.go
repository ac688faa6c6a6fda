package cdr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// CSVDirName is the directory cdr_csv writes in, under Asterisk's log
// directory; gopbx's default is DATADIR/cdr-csv.
const CSVDirName = "cdr-csv"

// MasterFile is the file every record is appended to.
const MasterFile = "Master.csv"

// CSV is the csv backend: cdr_csv's Master.csv, and with account logs one
// <accountcode>.csv per account code. Each batch is appended with one
// write per file and fsynced before Log returns. Files are opened for each
// batch, so logrotate can move them away at any time.
type CSV struct {
	dir         string
	format      CSVFormat
	accountLogs bool

	mu sync.Mutex // one batch at a time, so lines never interleave
}

// NewCSV returns a csv backend writing under dir (created if missing) in
// format f, with per-account files when accountLogs is set (cdr.conf's
// [csv] section gives both: Config.CSV and Config.AccountLogs).
func NewCSV(dir string, f CSVFormat, accountLogs bool) (*CSV, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cdr: csv: %w", err)
	}
	return &CSV{dir: dir, format: f, accountLogs: accountLogs}, nil
}

// Dir is where the files are.
func (c *CSV) Dir() string { return c.dir }

// Log appends recs to Master.csv and to their account files. A record
// whose account code cannot be a file name (it holds '/' or starts with
// '.') goes to Master.csv only, and Log reports it, as cdr_csv does.
func (c *CSV) Log(ctx context.Context, recs []Record) error {
	var master []byte
	var accounts []string
	perAccount := map[string][]byte{}
	var errs []error
	for i := range recs {
		r := &recs[i]
		start := len(master)
		master = AppendCSV(master, r, c.format)
		if !c.accountLogs || r.AccountCode == "" {
			continue
		}
		if strings.ContainsRune(r.AccountCode, '/') || r.AccountCode[0] == '.' || strings.ContainsRune(r.AccountCode, 0) {
			errs = append(errs, fmt.Errorf("cdr: csv: account code %q is unsafe as a file name; record %s logged to %s only", r.AccountCode, r.UniqueID, MasterFile))
			continue
		}
		if _, ok := perAccount[r.AccountCode]; !ok {
			accounts = append(accounts, r.AccountCode)
		}
		perAccount[r.AccountCode] = append(perAccount[r.AccountCode], master[start:]...)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err := appendSync(filepath.Join(c.dir, MasterFile), master); err != nil {
		errs = append(errs, err)
	}
	for _, acc := range accounts {
		if err := appendSync(filepath.Join(c.dir, acc+".csv"), perAccount[acc]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// appendSync appends data to the file at path and fsyncs it.
func appendSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("cdr: csv: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cdr: csv: write %s: %w", path, err)
	}
	return nil
}

var _ Backend = (*CSV)(nil)
