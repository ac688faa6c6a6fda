package cdr_test

import (
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/cdr"
)

func TestWriteStatus(t *testing.T) {
	p := newPBX(t, nil, cdr.WithBackend("sqlite", cdr.StoreBackend(&cdr.Memory{})))
	var b strings.Builder
	if err := p.col.WriteStatus(&b); err != nil {
		t.Fatal(err)
	}
	want := `
Call Detail Record (CDR) settings
----------------------------------
  Logging:                    Enabled
  Mode:                       Simple
  Log calls by default:       Yes
  Log unanswered calls:       No
  Log congestion:             No

  Ignore bridging changes:    No

  Ignore dial state changes:  No

  Cancel disposition enabled: No

* Registered Backends
  -------------------
    test
    sqlite

`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteStatusBatch(t *testing.T) {
	cfg := cdr.Default()
	cfg.Batch = true
	cfg.BatchSize = 1
	p := newPBX(t, cfg)
	var b strings.Builder
	if err := p.col.WriteStatus(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"  Mode:                       Batch\n",
		"* Batch Mode Settings\n  -------------------\n  Safe shutdown:              Enabled\n  Threading model:            Scheduler plus separate threads\n",
		"  Current batch size:         0 records\n",
		"  Maximum batch size:         1 record\n",
		"  Maximum batch time:         300 seconds\n",
		"  Next batch processing time: ",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("status lacks %q:\n%s", line, b.String())
		}
	}
}

func TestWriteStatusDisabled(t *testing.T) {
	cfg := cdr.Default()
	cfg.Enable = false
	p := newPBX(t, cfg)
	var b strings.Builder
	_ = p.col.WriteStatus(&b)
	want := "\nCall Detail Record (CDR) settings\n----------------------------------\n  Logging:                    Disabled\n  Mode:                       Simple\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
