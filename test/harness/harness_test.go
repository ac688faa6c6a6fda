package harness

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The harness's own tests drive every scenario and helper against
// Kamailio, a registrar known to be right, so a red integration test
// points at gopbx, not at the harness. Addresses: 127.0.251.0/24.

func TestMain(m *testing.M) {
	if os.Getenv("HARNESS_FAKE_PBX") == "1" {
		fakePBX()
		return
	}
	Main(m)
}

// kamUsers gives every scenario its own user, so parallel runs never see
// each other's bindings.
var kamUsers = map[string]string{}

func init() {
	for i := 2000; i < 2040; i++ {
		kamUsers[fmt.Sprint(i)] = fmt.Sprintf("pw%d", i)
	}
}

func users(user string) string { return "SEQUENTIAL\n" + user + ";" + kamUsers[user] + "\n" }

func TestScenariosAgainstKamailio(t *testing.T) {
	t.Parallel()
	kam := StartKamailio(t, KamailioOptions{IP: IP(t, "127.0.251.1"), Users: kamUsers})
	local := IP(t, "127.0.251.2")

	cases := []struct {
		scenario string
		user     string
		users    string // default users(user)
	}{
		{"register_auth", "2000", ""},
		{"register_multi_contact", "2001", ""},
		{"register_star", "2002", ""},
		{"unregister", "2003", ""},
		{"register_short_expiry", "2004", ""},
		{"register_wrong_password", "2005", "SEQUENTIAL\n2005;not-the-password\n"},
		{"options", "", ""},
		{"unknown_method", "", ""},
		{"unknown_require", "", ""},
		{"max_forwards_zero", "", ""},
	}
	for ti, tr := range []string{"u1", "t1"} {
		for _, c := range cases {
			t.Run(tr+"/"+c.scenario, func(t *testing.T) {
				t.Parallel()
				u := c.users
				if u == "" && c.user != "" {
					// UDP and TCP runs use different users (2000 vs 2020).
					user := fmt.Sprint(atoi(c.user) + 20*ti)
					u = users(user)
				}
				if c.scenario == "register_wrong_password" {
					u = strings.Replace(u, "2005", fmt.Sprint(2005+20*ti), 1)
				}
				RequireSIPp(t, SIPpOptions{
					Scenario: c.scenario, Remote: kam.Addr(), LocalIP: local,
					Transport: tr, Users: u, Service: "2039", Timeout: 15 * time.Second,
				})
			})
		}
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// The scenarios must be able to fail: each case here breaks one assertion.
func TestScenariosCanFail(t *testing.T) {
	t.Parallel()
	kam := StartKamailio(t, KamailioOptions{IP: IP(t, "127.0.251.3"), Users: kamUsers})
	local := IP(t, "127.0.251.4")
	run := func(t *testing.T, scenario, users string) SIPpResult {
		return RunSIPp(t, SIPpOptions{Scenario: scenario, Remote: kam.Addr(), LocalIP: local, Users: users, Timeout: 10 * time.Second})
	}

	t.Run("wrong password accepted", func(t *testing.T) {
		// the right password gets a 200, which register_wrong_password refuses
		if r := run(t, "register_wrong_password", users("2010")); r.ExitCode != 1 || r.Failed != 1 {
			t.Fatalf("exit %d, %d failed; want exit 1 and 1 failed call", r.ExitCode, r.Failed)
		}
	})
	t.Run("register with wrong password", func(t *testing.T) {
		r := run(t, "register_auth", "SEQUENTIAL\n2011;nope\n")
		if r.OK() {
			t.Fatal("register_auth succeeded with a wrong password")
		}
		if !strings.Contains(r.Errors, "401") {
			t.Errorf("error log does not mention the 401:\n%s", r.Errors)
		}
	})
	t.Run("binding left after unregister", func(t *testing.T) {
		// a second binding of the same user, from another port, survives
		// the unregister of the first, which the scenario must notice.
		RequireSIPp(t, SIPpOptions{Scenario: "register_auth", Remote: kam.Addr(), LocalIP: local, Users: users("2012")})
		r := run(t, "unregister", users("2012"))
		if r.OK() || !strings.Contains(r.Errors, "Regexp matched but should not") {
			t.Fatalf("unregister passed with a binding left (exit %d):\n%s", r.ExitCode, r.Errors)
		}
	})
	t.Run("no server", func(t *testing.T) {
		r := RunSIPp(t, SIPpOptions{Scenario: "options", Remote: HostPort(kam.opts.IP, 5999), LocalIP: local, Timeout: 3 * time.Second})
		if r.OK() {
			t.Fatal("options succeeded against a closed port")
		}
	})
}

func TestInlineScenarioAndUAS(t *testing.T) {
	t.Parallel()
	ip := IP(t, "127.0.251.5")
	uas := StartSIPp(t, SIPpOptions{Scenario: "uas_options", LocalIP: ip, Calls: 2, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond) // SIPp binds before reading the scenario's first recv
	for i := 0; i < 2; i++ {
		if err := WaitSIP("udp", ip, uas.Addr(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if r := uas.Wait(); !r.OK() || r.Successful != 2 {
		t.Fatalf("uas: exit %d, %d successful; want 0 and 2", r.ExitCode, r.Successful)
	}

	// An inline client scenario against a UAS that stays up until Stop.
	uas2 := StartSIPp(t, SIPpOptions{Scenario: "uas_options", LocalIP: ip, Calls: 100, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond)
	r := RequireSIPp(t, SIPpOptions{Scenario: inline, Remote: uas2.Addr(), LocalIP: ip, Calls: 3, Rate: 50})
	if r.Successful != 3 {
		t.Fatalf("client: %d successful calls, want 3", r.Successful)
	}
	if !strings.Contains(r.Messages, "SIP/2.0 200 OK") {
		t.Errorf("message log lacks the 200:\n%s", r.Messages)
	}
	if res := uas2.Stop(); res.Successful != 3 {
		t.Fatalf("uas stopped with %d successful calls, want 3 (exit %d)", res.Successful, res.ExitCode)
	}
	// Nothing answers on this port, so the inline scenario must time out.
	if r := RunSIPp(t, SIPpOptions{Scenario: inline, Remote: HostPort(ip, 5998), LocalIP: ip, Timeout: 2 * time.Second}); r.OK() {
		t.Fatal("inline scenario succeeded with no server")
	}
}

// inline is a minimal OPTIONS client given as XML text, not a file.
const inline = `<?xml version="1.0"?>
<scenario name="inline">
  <send retrans="500"><![CDATA[

OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
From: <sip:x@[local_ip]>;tag=[call_number]
To: <sip:[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>`

func TestBaresipAgainstKamailio(t *testing.T) {
	t.Parallel()
	RequireTool(t, "sox")
	kam := StartKamailio(t, KamailioOptions{IP: IP(t, "127.0.251.10"), Users: kamUsers})
	alice := StartBaresip(t, BaresipOptions{Name: "alice", IP: IP(t, "127.0.251.11"), User: "2030", Password: kamUsers["2030"],
		Domain: kam.Addr(), Transport: "udp", ToneHz: 1000, Record: true})
	bob := StartBaresip(t, BaresipOptions{Name: "bob", IP: IP(t, "127.0.251.12"), User: "2031", Password: kamUsers["2031"],
		Domain: kam.Addr(), Transport: "tcp", ToneHz: 600, Record: true})
	for _, ua := range []*Baresip{alice, bob} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Dial("sip:2031@" + kam.Addr()); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*Baresip{alice, bob} {
		if _, err := ua.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Each side hears the other's tone: 1000 Hz from alice, 600 Hz from bob.
	// The dumps are complete once baresip has exited.
	alice.Stop()
	bob.Stop()
	check := func(ua *Baresip, wantHz float64) {
		files, _ := filepath.Glob(filepath.Join(ua.RecordDir(), "*-dec.wav"))
		if len(files) != 1 {
			t.Fatalf("%s: want one *-dec.wav, found %v", ua.opts.Name, files)
		}
		st := MeasureAudio(t, files[0], 500*time.Millisecond)
		t.Logf("%s heard %.2fs at %.0f Hz, %.1f dBFS", ua.opts.Name, st.Length, st.FreqHz, st.RMSdB)
		if st.Length < 1 || st.RMSdB < -30 || st.FreqHz < wantHz*0.95 || st.FreqHz > wantHz*1.05 {
			t.Errorf("%s: received audio %+v, want >= 1 s of %.0f Hz above -30 dBFS", ua.opts.Name, st, wantHz)
		}
	}
	check(alice, 600)
	check(bob, 1000)
}

func TestBaresipWrongPassword(t *testing.T) {
	t.Parallel()
	kam := StartKamailio(t, KamailioOptions{IP: IP(t, "127.0.251.13"), Users: kamUsers})
	ua := StartBaresip(t, BaresipOptions{IP: IP(t, "127.0.251.14"), User: "2032", Password: "wrong", Domain: kam.Addr()})
	if err := ua.WaitRegistered(2 * time.Second); err == nil {
		t.Fatal("registered with a wrong password")
	}
}

func TestIPClaims(t *testing.T) {
	// Not parallel with itself; uses addresses no other test claims.
	IP(t, "127.0.251.20")
	IP(t, "127.0.251.20") // the same test may claim again
	msg := fatalOf(t, "other", func(tb testing.TB) { IP(tb, "127.0.251.20") })
	if !strings.Contains(msg, "already claimed by "+t.Name()) {
		t.Errorf("duplicate claim: got %q", msg)
	}
	for _, bad := range []string{"10.0.0.1", "127.0.0.1", "::1", "nonsense"} {
		if msg := fatalOf(t, "bad", func(tb testing.TB) { IP(tb, bad) }); msg == "" {
			t.Errorf("IP(%q) was accepted", bad)
		}
	}
	a, b := NextIP(t), NextIP(t)
	if a == b || !strings.HasPrefix(a, "127.2.") || !strings.HasPrefix(b, "127.2.") {
		t.Errorf("NextIP: %s, %s", a, b)
	}
	p := FreePort(t, a)
	l, err := net.ListenPacket("udp4", HostPort(a, p))
	if err != nil {
		t.Fatalf("FreePort %d not free: %v", p, err)
	}
	l.Close()
}

// fatalTB records the first Fatal and stops the calling goroutine.
type fatalTB struct {
	testing.TB
	name string
	msg  string
}

func (f *fatalTB) Name() string { return f.name }
func (f *fatalTB) Helper()      {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func fatalOf(t *testing.T, name string, fn func(testing.TB)) string {
	f := &fatalTB{TB: t, name: name}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(f)
	}()
	wg.Wait()
	return f.msg
}

func TestParseSIPpStats(t *testing.T) {
	csv := "StartTime;SuccessfulCall(C);FailedCall(C);Retransmissions(C)\n" +
		"2026-01-01\t10:00:00.0\t1.0;0;0;0\n" +
		"2026-01-01\t10:00:01.0\t1.0;7;2;3\n"
	if ok, failed, re := parseSIPpStats(csv); ok != 7 || failed != 2 || re != 3 {
		t.Fatalf("got %d %d %d, want 7 2 3", ok, failed, re)
	}
	if ok, failed, _ := parseSIPpStats(""); ok != 0 || failed != 0 {
		t.Fatal("empty stats")
	}
}

// TestPBXLifecycle drives StartPBX, Console, Restart, Kill and Stop with a
// stand-in gopbx (this test binary in fakePBX mode), so the harness is
// known to work before the real server does.
func TestPBXLifecycle(t *testing.T) {
	t.Parallel()
	ip := IP(t, "127.0.251.30")
	opts := PBXOptions{
		IP:    ip,
		Files: map[string]string{"sip.conf": "[general]\nbindaddr=" + ip + "\nbindport=5060\n"},
		Env:   []string{"HARNESS_FAKE_PBX=1"},
	}
	pbx := startPBX(t, os.Args[0], opts)
	if out := pbx.Console(t, "core show version"); !strings.Contains(out, "fake gopbx: core show version") {
		t.Fatalf("console: %q", out)
	}
	if _, err := pbx.ConsoleErr("fail"); err == nil {
		t.Fatal("a failing console command returned no error")
	}
	pid := pbx.Pid()
	pbx.Restart(t)
	if pbx.Pid() == pid {
		t.Fatal("restart kept the old process")
	}
	if err := pbx.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	pbx.WaitConsole(t, "reloads", 5*time.Second, func(out string) bool { return strings.Contains(out, "reloads=1") })
	pbx.Kill(t)
	if pbx.Running() {
		t.Fatal("running after Kill")
	}
	pbx.Restart(t)
	if err := WaitSIP("udp", ip, pbx.Addr(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	pbx.Stop(t)
	if !strings.Contains(pbx.Log(), `msg="gopbx ready"`) || strings.Count(pbx.Log(), "=== ") != 3 {
		t.Fatalf("log does not show three starts:\n%s", pbx.Log())
	}
}

// TestPBXStartupFailure: a gopbx that exits at once fails StartPBX fast.
func TestPBXStartupFailure(t *testing.T) {
	t.Parallel()
	ip := IP(t, "127.0.251.31")
	start := time.Now()
	msg := fatalOf(t, t.Name(), func(tb testing.TB) {
		startPBX(tb, os.Args[0], PBXOptions{IP: ip, Files: map[string]string{"sip.conf": "[general]\nbindaddr=" + ip + "\n"},
			Env: []string{"HARNESS_FAKE_PBX=1", "HARNESS_FAKE_EXIT=1"}})
	})
	if !strings.Contains(msg, "exited during startup") {
		t.Fatalf("got %q", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to notice the exit", d)
	}
}

// fakePBX is a minimal stand-in for gopbx's process contract: reads
// bindaddr from sip.conf, answers OPTIONS on UDP, serves -rx from its
// data dir over a unix socket, reloads on SIGHUP, exits on SIGTERM.
func fakePBX() {
	var conf, data, rx string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-C":
			i++
			conf = args[i]
		case "-data":
			i++
			data = args[i]
		case "-rx":
			i++
			rx = args[i]
		}
	}
	sock := filepath.Join(data, "gopbx.ctl")
	if rx != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Fprintln(c, rx)
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Print(line)
		if strings.HasPrefix(line, "error") {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("HARNESS_FAKE_EXIT") == "1" {
		fmt.Fprintln(os.Stderr, "fake gopbx: bad config")
		os.Exit(2)
	}
	b, _ := os.ReadFile(filepath.Join(conf, "sip.conf"))
	ip := ""
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "bindaddr="); ok {
			ip = strings.TrimSpace(v)
		}
	}
	pc, err := net.ListenPacket("udp4", ip+":5060")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	reloads := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmd, _ := bufio.NewReader(c).ReadString('\n')
			cmd = strings.TrimSpace(cmd)
			mu.Lock()
			n := reloads
			mu.Unlock()
			switch cmd {
			case "fail":
				fmt.Fprintln(c, "error: no such command")
			case "reloads":
				fmt.Fprintf(c, "reloads=%d\n", n)
			default:
				fmt.Fprintf(c, "fake gopbx: %s\n", cmd)
			}
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := string(buf[:n])
			if !strings.HasPrefix(req, "OPTIONS ") {
				continue
			}
			var resp strings.Builder
			resp.WriteString("SIP/2.0 200 OK\r\n")
			for _, h := range strings.Split(req, "\r\n") {
				for _, name := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if strings.HasPrefix(h, name) {
						resp.WriteString(h + "\r\n")
					}
				}
			}
			resp.WriteString("Content-Length: 0\r\n\r\n")
			pc.WriteTo([]byte(resp.String()), from)
		}
	}()
	fmt.Fprintln(os.Stderr, `time=now level=INFO msg="gopbx ready"`)
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGHUP)
	for s := range sig {
		if s == syscall.SIGHUP {
			mu.Lock()
			reloads++
			mu.Unlock()
			continue
		}
		ln.Close()
		os.Exit(0)
	}
}
