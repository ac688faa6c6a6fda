package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests cover sipbench's parsers only; the benchmark itself runs
// with `make bench`, never under `go test`.

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis.
	line := "4242 (kam (worker) 1) S 1 4200 4200 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 3 0 100 1000000 500 18446744073709551615"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 1 || st.pgrp != 4200 || st.cpuTicks != 1234+567 || st.threadCnt != 3 {
		t.Fatalf("got %+v", st)
	}
}

func TestUDPKeyAndProcNetUDP(t *testing.T) {
	if k := udpKey("127.0.91.1", 5060); k != "015B007F:13C4" {
		t.Fatalf("udpKey = %s", k)
	}
	s := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 015B007F:13C4 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 123 2 0000000000000000 17
  101: 025B007F:13CE 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124 2 0000000000000000 0
`
	m := parseProcNetUDP(s)
	if got := m["015B007F:13C4"]; got.Drops != 17 || got.RxQueue != 0xA00 {
		t.Fatalf("server socket = %+v", got)
	}
	if _, ok := m[udpKey("127.0.91.2", 5070)]; !ok {
		t.Fatalf("SIPp socket missing: %v", m)
	}
}

func TestParseSIPpStat(t *testing.T) {
	head := "StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);SuccessfulCall(C);FailedCall(C);Retransmissions(C)"
	row := "2026-11-27\t16:21:06.000000\t1795796466.000000;x;2026-11-27\t16:21:11.500000\t1795796471.500000;00:00:00;00:00:05;25000;3;42"
	st, err := parseSIPpStat(head + "\n" + row + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if st.successful != 25000 || st.failed != 3 || st.retrans != 42 || st.elapsed != 5500*time.Millisecond {
		t.Fatalf("got %+v", st)
	}
	if _, err := parseSIPpStat(head + "\n"); err == nil {
		t.Fatal("a header alone parsed")
	}
}

func TestSummariseAndStat(t *testing.T) {
	var v []float64
	for i := 1; i <= 100; i++ {
		v = append(v, float64(i))
	}
	r := summarise(v)
	if r.N != 100 || r.P50 != 50 || r.P95 != 95 || r.P99 != 99 || r.Max != 100 || r.Mean != 50.5 {
		t.Fatalf("got %+v", r)
	}
	rs := []*runResult{{CPUmsPerOp: 3}, {CPUmsPerOp: 1}, {CPUmsPerOp: 2}}
	if s := statOf(rs, func(r *runResult) float64 { return r.CPUmsPerOp }); s != (stat{1, 2, 3}) {
		t.Fatalf("statOf = %+v", s)
	}
}

func TestThousands(t *testing.T) {
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Fatalf("thousands = %s", got)
	}
	if got := thousands(999); got != "999" {
		t.Fatalf("thousands = %s", got)
	}
}

func TestJudge(t *testing.T) {
	r := &runResult{Target: 1000, Calls: 10000, Successful: 9995, Failed: 5, Achieved: 990, ServerAlive: true}
	r.judge()
	if !r.Clean {
		t.Fatalf("0.05%% failed judged unclean: %s", r.Why)
	}
	r = &runResult{Target: 1000, Calls: 10000, Successful: 9980, Failed: 20, Achieved: 990, ServerAlive: true}
	r.judge()
	if r.Clean || !strings.Contains(r.Why, "failed") {
		t.Fatalf("0.2%% failed judged clean: %+v", r)
	}
	r = &runResult{Target: 1000, Calls: 10000, Successful: 10000, Achieved: 800, ServerAlive: true, ServerDrops: 12}
	r.judge()
	if r.Clean || !strings.Contains(r.Limit, "server socket dropped 12") {
		t.Fatalf("slow run: %+v", r)
	}
}

func TestSIPpRefusals(t *testing.T) {
	dir := t.TempDir()
	log := "The following events occurred:\n" +
		"2026-11-28\t05:14:07.900575\t1795842847.900575: Aborting call on unexpected message for Call-Id '1-7951@127.0.91.2': while expecting '100' (index 1), received 'SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/UDP 127.0.91.2:5070\n\n'" +
		"2026-11-28\t05:14:07.902829\t1795842847.902829: Aborting call on unexpected message for Call-Id '2-7951@127.0.91.2': while expecting '100' (index 1), received 'SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/UDP 127.0.91.2:5070\n\n'" +
		"2026-11-28\t05:14:08.000000\t1795842848.000000: Aborting call on unexpected message for Call-Id '3-7951@127.0.91.2': while expecting '200' (index 2), received 'SIP/2.0 180 Ringing\nVia: x\n\n'" +
		"2026-11-28\t05:14:08.100000\t1795842848.100000: Aborting call on unexpected message for Call-Id '4-7951@127.0.91.2': while expecting '100' (index 1), received 'SIP/2.0 486 Busy Here\nVia: x\n\n'"
	p := filepath.Join(dir, "errors.log")
	if err := os.WriteFile(p, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := sippRefusals(p)
	if got["503 Service Unavailable"] != 2 || got["486 Busy Here"] != 1 || len(got) != 2 {
		t.Fatalf("refusals = %v", got)
	}
	if s := refusalText(got); s != "503 Service Unavailable ×2, 486 Busy Here ×1" {
		t.Errorf("refusalText = %q", s)
	}
	if sippRefusals(filepath.Join(dir, "none")) != nil {
		t.Error("a missing errors.log gave refusals")
	}
}
