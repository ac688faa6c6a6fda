package security

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_700_000_000, 0)} }
func ev(src string) Event {
	return Event{Kind: EventAuthFailed, Src: src, Username: "1000", Method: "REGISTER"}
}
func testShield(cfg Config, c *clock) (*Shield, *bytes.Buffer) {
	var buf bytes.Buffer
	return New(cfg, slog.New(slog.NewTextHandler(&buf, nil)), c.now), &buf
}

var ip = netip.MustParseAddr

func TestBanAfterFailuresInWindow(t *testing.T) {
	c := newClock()
	cfg := Defaults()
	cfg.BanAfter, cfg.BanWindow, cfg.BanTime = 3, 30*time.Second, 20*time.Second
	s, _ := testShield(cfg, c)
	a := ip("192.0.2.7")

	// Failures spread wider than the window never ban.
	for range 5 {
		if s.Fail(ev("192.0.2.7:5060")) {
			t.Fatal("banned with failures outside the window")
		}
		c.add(16 * time.Second)
	}
	if s.Blocked(a) {
		t.Fatal("blocked without a ban")
	}
	s.Fail(ev("192.0.2.7:5060"))
	c.add(time.Second)
	s.Fail(ev("192.0.2.7:5061"))
	if s.Failures(a) != 0 { // the ban (with the one 16 s earlier, 3) replaced them
		t.Fatalf("failures = %d after the ban", s.Failures(a))
	}
	if !s.Blocked(a) {
		t.Fatal("not banned after 3 failures in 30 s")
	}
	if s.Blocked(ip("192.0.2.8")) {
		t.Fatal("another source is blocked")
	}
	bans := s.Bans()
	if len(bans) != 1 || bans[0].Addr != a || bans[0].Failures != 3 || bans[0].Until != c.t.Add(20*time.Second) {
		t.Fatalf("bans = %+v", bans)
	}
	c.add(19 * time.Second)
	if !s.Blocked(a) {
		t.Fatal("ban ended early")
	}
	c.add(time.Second)
	if s.Blocked(a) {
		t.Fatal("ban did not expire")
	}
	if len(s.Bans()) != 0 || s.Failures(a) != 0 {
		t.Fatal("expired ban left state behind")
	}
}

func TestUnban(t *testing.T) {
	c := newClock()
	cfg := Defaults()
	cfg.BanAfter = 1
	s, _ := testShield(cfg, c)
	s.Fail(ev("192.0.2.1:5060"))
	s.Fail(ev("[2001:db8::1]:5060"))
	if !s.Blocked(ip("2001:db8::1")) || !s.Blocked(ip("192.0.2.1")) {
		t.Fatal("not banned")
	}
	if !s.Unban(ip("192.0.2.1")) || s.Blocked(ip("192.0.2.1")) {
		t.Fatal("unban failed")
	}
	if s.Unban(ip("192.0.2.1")) {
		t.Fatal("unban of an unbanned source reported true")
	}
	if n := s.UnbanAll(); n != 1 || s.Blocked(ip("2001:db8::1")) {
		t.Fatalf("UnbanAll = %d", n)
	}
}

func TestIgnoreAndDisabled(t *testing.T) {
	c := newClock()
	cfg := Defaults()
	cfg.BanAfter = 1
	cfg.Ignore = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	s, _ := testShield(cfg, c)
	if s.Fail(ev("10.1.2.3:5060")) || s.Blocked(ip("10.1.2.3")) {
		t.Fatal("ignored source banned")
	}
	cfg.BanAfter = 0
	s.SetConfig(cfg)
	if s.Fail(ev("192.0.2.1:5060")) {
		t.Fatal("banned with ban_after_failures=0")
	}
}

func TestInviteRate(t *testing.T) {
	c := newClock()
	cfg := Defaults()
	cfg.InviteRate = 5
	s, _ := testShield(cfg, c)
	a := ip("192.0.2.9")
	ok := 0
	for range 100 {
		if allowed, _ := s.AllowInvite(a); allowed {
			ok++
		}
	}
	if ok != 5 {
		t.Fatalf("%d of 100 INVITEs at once allowed, want the burst of 5", ok)
	}
	if allowed, after := s.AllowInvite(a); allowed || after != 1 {
		t.Fatalf("allowed=%v retry-after=%d", allowed, after)
	}
	if allowed, _ := s.AllowInvite(ip("192.0.2.10")); !allowed {
		t.Fatal("another source is limited")
	}
	c.add(200 * time.Millisecond) // one token back at 5/s
	if allowed, _ := s.AllowInvite(a); !allowed {
		t.Fatal("no token after 200 ms")
	}
	if allowed, _ := s.AllowInvite(a); allowed {
		t.Fatal("two tokens after 200 ms")
	}
	cfg.InviteRate = 0
	s.SetConfig(cfg)
	for range 100 {
		if allowed, _ := s.AllowInvite(a); !allowed {
			t.Fatal("limited with invite_rate=0")
		}
	}
}

func TestLogRateLimited(t *testing.T) {
	c := newClock()
	s, buf := testShield(Defaults(), c)
	for range 10 {
		s.Log(Event{Kind: EventScanner, Src: "192.0.2.1:5060"})
	}
	s.Log(Event{Kind: EventScanner, Src: "192.0.2.2:5060"})
	if n := strings.Count(buf.String(), "security: scanner dropped"); n != 2 {
		t.Fatalf("%d lines, want one per source:\n%s", n, buf)
	}
	c.add(logInterval)
	s.Log(Event{Kind: EventScanner, Src: "192.0.2.1:5060"})
	if !strings.Contains(buf.String(), "suppressed=9") {
		t.Fatalf("no suppressed count:\n%s", buf)
	}
}

func TestTablesBounded(t *testing.T) {
	c := newClock()
	s, _ := testShield(Defaults(), c)
	for i := range maxSources + 100 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s.AllowInvite(a)
		s.Fail(Event{Kind: EventAuthFailed, Src: a.String()})
	}
	if len(s.buckets) > maxSources || len(s.fails) > maxSources || len(s.logged) > maxSources {
		t.Fatalf("tables grew past %d: %d %d %d", maxSources, len(s.buckets), len(s.fails), len(s.logged))
	}
}

func TestScanner(t *testing.T) {
	for ua, want := range map[string]bool{
		"friendly-scanner": true, "sipvicious 0.3": true, "VaxSIPUserAgent/3.1": true,
		"sipcli/v1.8": true, "sundayddr": true, "Zoiper rv2.10": false, "": false, "baresip v3": false,
	} {
		if IsScanner(ua) != want {
			t.Errorf("IsScanner(%q) = %v", ua, !want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cfg, _, err := Load(dir)
	if err != nil || cfg.BanAfter != 5 || cfg.BanWindow != time.Minute || cfg.BanTime != 10*time.Minute || cfg.InviteRate != 50 || !cfg.DropScanners || cfg.OverloadWait != time.Second {
		t.Fatalf("defaults without gopbx.conf: %+v %v", cfg, err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\nban_after_failures=3\nban_window=30\nban_time=20\ninvite_rate=5\nban_ignore=10.0.0.0/8, 192.0.2.1\ndrop_scanners=no\noverload_wait=0\nbogus=1\n"), 0o644)
	cfg, warns, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BanAfter != 3 || cfg.BanWindow != 30*time.Second || cfg.BanTime != 20*time.Second || cfg.InviteRate != 5 || cfg.DropScanners || len(cfg.Ignore) != 2 || cfg.OverloadWait != 0 {
		t.Fatalf("%+v", cfg)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), "gopbx.conf:9") {
		t.Fatalf("warnings = %v", warns)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\nban_time=soon\n"), 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "gopbx.conf:2") {
		t.Fatalf("bad value: %v", err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\noverload_wait=100\n"), 0o644)
	if cfg, _, err := Load(dir); err != nil || cfg.OverloadWait != 100*time.Millisecond {
		t.Fatalf("overload_wait=100: %v %v", cfg.OverloadWait, err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\n\noverload_wait=-5\n"), 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "gopbx.conf:3") {
		t.Fatalf("overload_wait=-5: %v", err)
	}
	if cfg, _, _ := Load(t.TempDir()); cfg.OverloadDelay != DefaultOverloadDelay || cfg.OverloadWait != DefaultOverloadWait {
		t.Fatalf("defaults: overload_delay %v, overload_wait %v", cfg.OverloadDelay, cfg.OverloadWait)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\noverload_delay=0\noverload_wait=300\n"), 0o644)
	if cfg, _, err := Load(dir); err != nil || cfg.OverloadDelay != 0 || cfg.OverloadWait != 300*time.Millisecond {
		t.Fatalf("overload_delay=0, overload_wait=300: %v %v %v", cfg.OverloadDelay, cfg.OverloadWait, err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("[security]\noverload_delay=soon\n"), 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "gopbx.conf:2") {
		t.Fatalf("overload_delay=soon: %v", err)
	}
}
