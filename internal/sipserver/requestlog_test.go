package sipserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestRequestLog: a request's logger carries call_id, method and src
// before the record's own attributes, through With too, and costs no
// allocation until it logs.
func TestRequestLog(t *testing.T) {
	var out bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "127.0.0.1"})
	cid := sip.CallIDHeader("abc@host")
	req.AppendHeader(&cid)
	r := &Request{Request: req, srv: s}
	r.setLog(s, "127.0.0.2:5070")

	r.Log.Info("first", "k", 1)
	r.Log.With("leg", "a").Warn("second")
	r.Log.Debug("not logged")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	for i, want := range []string{
		`msg=first call_id=abc@host method=INVITE src=127.0.0.2:5070 k=1`,
		`msg=second call_id=abc@host method=INVITE src=127.0.0.2:5070 leg=a`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
	if raceEnabled {
		return
	}
	if a := testing.AllocsPerRun(100, func() { r.setLog(s, "127.0.0.2:5070"); r.Log.Debug("off") }); a != 0 {
		t.Errorf("setLog and a disabled record: %v allocations", a)
	}
}
