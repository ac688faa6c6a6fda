package cdr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CSVDirName is the directory cdr_csv writes in, under Asterisk's log
// directory; gopbx's default is DATADIR/cdr-csv.
const CSVDirName = "cdr-csv"

// MasterFile is the file every record is appended to.
const MasterFile = "Master.csv"

// CSV is the csv backend: cdr_csv's Master.csv, and with account logs one
// <accountcode>.csv per account code. Each batch is appended with one
// write per file before Log returns, so it survives a crash of gopbx.
// Files are fsynced at most once a second (csvSyncEvery), within a second
// of the write: the guarantee of the SQLite copy (WAL, synchronous=NORMAL),
// where an fsync per batch cost 3% of the CPU per call at 1,000 calls/s.
// Asterisk's cdr_csv never fsyncs. Files are opened for each batch, so
// logrotate can move them away at any time. Keeping Master.csv open would
// save the open and close, about 4 µs a batch (BenchmarkCSVLog), but then
// a renamed or removed file would have to be noticed; under load the
// collector hands over a batch about every 10 ms (its gather window), so
// that is some 0.4 ms of CPU a second, not worth it.
type CSV struct {
	dir         string
	master      string // the path of Master.csv
	format      CSVFormat
	accountLogs bool

	mu        sync.Mutex // one batch at a time, so lines never interleave
	buf       []byte     // the lines of the batch being written, reused
	unsynced  map[string]bool
	lastSync  time.Time
	syncTimer *time.Timer
	syncErr   error                   // of a timed sync, reported by the next Log
	fsync     func(path string) error // fsyncPath; tests count the calls
}

// csvSyncEvery is the most often CSV fsyncs its files.
const csvSyncEvery = time.Second

// maxCSVBuf is the largest line buffer CSV keeps for the next batch.
const maxCSVBuf = 1 << 20

// NewCSV returns a csv backend writing under dir (created if missing) in
// format f, with per-account files when accountLogs is set (cdr.conf's
// [csv] section gives both: Config.CSV and Config.AccountLogs).
func NewCSV(dir string, f CSVFormat, accountLogs bool) (*CSV, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cdr: csv: %w", err)
	}
	return &CSV{
		dir:         dir,
		master:      filepath.Join(dir, MasterFile),
		format:      f,
		accountLogs: accountLogs,
		unsynced:    map[string]bool{},
		fsync:       fsyncPath,
	}, nil
}

// Dir is where the files are.
func (c *CSV) Dir() string { return c.dir }

// Log appends recs to Master.csv and to their account files. A record
// whose account code cannot be a file name (it holds '/' or starts with
// '.') goes to Master.csv only, and Log reports it, as cdr_csv does.
func (c *CSV) Log(ctx context.Context, recs []Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	master := c.buf[:0]
	var accounts []string
	var perAccount map[string][]byte // made for the first account line
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
		if perAccount == nil {
			perAccount = map[string][]byte{}
		}
		if _, ok := perAccount[r.AccountCode]; !ok {
			accounts = append(accounts, r.AccountCode)
		}
		perAccount[r.AccountCode] = append(perAccount[r.AccountCode], master[start:]...)
	}
	if cap(master) <= maxCSVBuf {
		c.buf = master
	}

	if c.syncErr != nil {
		errs = append(errs, c.syncErr)
		c.syncErr = nil
	}
	c.appendLocked(c.master, master, &errs)
	for _, acc := range accounts {
		c.appendLocked(filepath.Join(c.dir, acc+".csv"), perAccount[acc], &errs)
	}
	if wait := csvSyncEvery - time.Since(c.lastSync); wait <= 0 {
		if err := c.syncLocked(); err != nil {
			errs = append(errs, err)
		}
	} else if c.syncTimer == nil {
		c.syncTimer = time.AfterFunc(wait, c.timedSync)
	}
	return errors.Join(errs...)
}

func (c *CSV) appendLocked(path string, data []byte, errs *[]error) {
	if err := appendFile(path, data); err != nil {
		*errs = append(*errs, err)
		return
	}
	c.unsynced[path] = true
}

// syncLocked fsyncs the files written since the last sync.
func (c *CSV) syncLocked() error {
	var errs []error
	for path := range c.unsynced {
		if err := c.fsync(path); err != nil {
			errs = append(errs, fmt.Errorf("cdr: csv: sync %s: %w", path, err))
		}
	}
	clear(c.unsynced)
	c.lastSync = time.Now()
	if c.syncTimer != nil {
		c.syncTimer.Stop()
		c.syncTimer = nil
	}
	return errors.Join(errs...)
}

func (c *CSV) timedSync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncTimer = nil
	c.syncErr = errors.Join(c.syncErr, c.syncLocked())
}

// appendFile appends data to the file at path.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("cdr: csv: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cdr: csv: write %s: %w", path, err)
	}
	return nil
}

// fsyncPath flushes the file at path to disk.
func fsyncPath(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var _ Backend = (*CSV)(nil)
