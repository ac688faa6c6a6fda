package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A workload is one kind of SIP load. Each enabled workload runs against
// every server that supports it: stepping the rate, then repeating the best
// clean step.
type workload struct {
	Name  string // short id, used in JSON and on the command line
	Title string // heading in the report
	// Op names one SIPp call ("registration", "OPTIONS", "call"); CPU cost
	// is reported per op.
	Op string
	// Scenario is the SIPp client scenario under bench/scenarios.
	Scenario string
	// UASScenario, when set, is a SIPp UAS started behind the server
	// (calls: SIPp UAC -> server -> SIPp UAS).
	UASScenario string
	// Users says the client scenario takes the 1,000 users CSV (-inf).
	Users bool
	// Service is the Request-URI user of the client scenario (-s).
	Service string
	// Hold is the client scenario's pause (-d), the call's hold time.
	Hold time.Duration
	// Steps are the target rates (ops/s) in full mode; QuickSteps in quick.
	Steps, QuickSteps []int
	// Duration of one step at full and quick mode (the SIPp -m bound is
	// rate x duration).
	Duration, QuickDuration time.Duration
	// Servers lists which servers run this workload.
	Servers []string
	// PerServer gives one server its own steps and durations instead of
	// the workload's (kamailio-db, far slower than the others).
	PerServer map[string]stepPlan
	// Pending, when not empty, says why the workload does not run yet
	// (it is listed in the report as TODO); PendingFor says it per server.
	Pending    string
	PendingFor map[string]string
	// KamailioDefines are -A defines for bench/kamailio/registrar.cfg and
	// KamailioShm its shared memory in MB (-m; default 512).
	KamailioDefines []string
	KamailioShm     int
	// Baseline is the Asterisk figure recorded elsewhere for this load.
	Baseline string
	// OverloadProbe adds one run at twice the max clean rate (full mode):
	// how much gets through beyond capacity.
	OverloadProbe bool
	// Kind is "" for a SIPp load, kindRTP or kindHeld for a media load
	// (media.go): then the steps are numbers of concurrent calls, set up at
	// SetupRate calls/s, and Duration is the measurement window (rtp) or
	// the hold before each reading (held). Transcode makes the callee
	// allow only alaw against the caller's ulaw. DirectMedia sets
	// direct_media=yes on both endpoints: gopbx passes the SDP through and
	// opens no RTP socket (signalling only).
	Kind        string
	Transcode   bool
	DirectMedia bool
	// KernelForward turns on gopbx's in-kernel RTP forwarding (rtp.conf
	// kernelforward=yes, table kernelTable).
	KernelForward bool
	// WarmUp is how long RTP flows before an RTP step's window (default
	// 1 s).
	WarmUp    time.Duration
	SetupRate int
}

// workloads is the benchmark's table. Add new loads here; the driver,
// report and JSON pick them up.
var workloads = []workload{
	{
		Name:          "register",
		Title:         "REGISTER with digest (1,000 users)",
		Op:            "registration",
		Scenario:      "register_digest.xml",
		Users:         true,
		Steps:         []int{2000, 5000, 8000, 10000, 12000, 14000, 16000},
		QuickSteps:    []int{1000, 3000},
		Duration:      7 * time.Second,
		QuickDuration: 4 * time.Second,
		Servers:       []string{"gopbx", "kamailio", "kamailio-db"},
		// 7 s a step (8 s before kamailio-db came in; options 6 s then,
		// 5 s now) pays for most of kamailio-db's 50 s within make
		// bench's budget.
		//
		// Kamailio writing every registration through to SQLite
		// (registrar-sqlite.cfg, 1 SIP worker) tops out near 1,000-1,250/s
		// (1,250 clean in some runs, not in others; 1,500 never), its
		// worker waiting on SQLite's commits with CPU to spare: 3 steps of
		// 5 s, 40-50 s of make bench with the repetitions.
		PerServer: map[string]stepPlan{
			"kamailio-db": {
				Steps:         []int{500, 1000, 1250},
				QuickSteps:    []int{1000},
				Duration:      5 * time.Second,
				QuickDuration: 3 * time.Second,
			},
		},
	},
	{
		Name:          "options",
		Title:         "OPTIONS to the server",
		Op:            "OPTIONS",
		Scenario:      "options.xml",
		Steps:         []int{5000, 15000, 25000, 35000, 45000, 55000},
		QuickSteps:    []int{2000, 5000},
		Duration:      5 * time.Second,
		QuickDuration: 3 * time.Second,
		Servers:       []string{"gopbx", "kamailio"},
	},
	{
		// SIPp UAC -> gopbx (Dial) -> SIPp UAS answering INVITE with 200
		// directly (no 180: see research/test-peers.md), 1 s hold, BYE from
		// the caller. Kamailio is no B2BUA: its call figure is proxy-calls.
		Name:          "b2bua-calls",
		Title:         "B2BUA calls INVITE...BYE, 1 s hold, no RTP sent (gopbx anchors the media: two RTP port pairs per call)",
		Op:            "call",
		Scenario:      "call_uac.xml",
		UASScenario:   "call_uas.xml",
		Service:       "100",
		Hold:          time.Second,
		Steps:         []int{500, 1000, 1500, 2000, 2500, 3000, 4000},
		QuickSteps:    []int{50, 200},
		Duration:      8 * time.Second,
		QuickDuration: 3 * time.Second,
		Servers:       []string{"gopbx"},
		Baseline:      "Asterisk, recorded in issue 7 (not measured here): 400 calls/s max clean at 3.8–4.7 ms CPU per call.",
		OverloadProbe: true,
	},
	{
		// SIPp UAC -> server (stateful record-routing proxy) -> SIPp UAS.
		Name:            "proxy-calls",
		Title:           "Stateful proxy calls INVITE...BYE, 1 s hold",
		Op:              "call",
		Scenario:        "call_uac.xml",
		UASScenario:     "call_uas.xml",
		Service:         "100",
		Hold:            time.Second,
		Steps:           []int{500, 1000, 1500, 2000, 3000, 4000},
		QuickSteps:      []int{200, 500},
		Duration:        8 * time.Second,
		QuickDuration:   3 * time.Second,
		Servers:         []string{"gopbx", "kamailio"},
		PendingFor:      map[string]string{"gopbx": "gopbx has no proxy mode yet (no issue asks for one so far; this row fills in once it exists)"},
		KamailioDefines: []string{"WITH_PROXY"},
		KamailioShm:     1024,
	},
	{
		// Go UAC -> gopbx (Dial, anchored media) -> Go UAS; G.711 RTP both
		// ways through gopbx's relay (media.go, rtpgen.go).
		Name:          "rtp-relay",
		Title:         "Calls with G.711 RTP through the media relay (20 ms, 50 pps each way)",
		Op:            "call",
		Kind:          kindRTP,
		SetupRate:     500,
		Steps:         []int{500, 1000, 1500, 2000, 3000, 4000},
		QuickSteps:    []int{500},
		Duration:      4 * time.Second,
		QuickDuration: 2 * time.Second,
		Servers:       []string{"gopbx"},
	},
	{
		// The same calls with rtp.conf kernelforward=yes: once both ends
		// are latched gopbx hands each bridge to nftables (internal/kfwd)
		// and relays no packet itself.
		Name:          "rtp-relay-kernel",
		Title:         "Calls with G.711 RTP forwarded in the kernel (rtp.conf kernelforward=yes; 20 ms, 50 pps each way)",
		Op:            "call",
		Kind:          kindRTP,
		KernelForward: true,
		// Until both ends of a call are latched and the bridge is in the
		// kernel, user space relays; at 2,000 calls and more that first
		// second queues more than user space relays in a second, and the
		// backlog would be drained, late, in the window.
		WarmUp:    3 * time.Second,
		SetupRate: 500,
		// Two steps: make bench has 15 minutes for everything.
		Steps:         []int{2000, 4000},
		QuickSteps:    []int{500},
		Duration:      4 * time.Second,
		QuickDuration: 2 * time.Second,
		Servers:       []string{"gopbx"},
	},
	{
		Name:          "rtp-transcode",
		Title:         "Calls with RTP transcoded ulaw↔alaw (caller allow=ulaw, callee allow=alaw)",
		Op:            "call",
		Kind:          kindRTP,
		Transcode:     true,
		SetupRate:     500,
		Steps:         []int{1000, 1500, 2000, 3000},
		QuickSteps:    []int{100},
		Duration:      4 * time.Second,
		QuickDuration: 2 * time.Second,
		Servers:       []string{"gopbx"},
	},
	{
		Name:      "held-calls",
		Title:     "Concurrent held calls (anchored media, no RTP)",
		Op:        "held call",
		Kind:      kindHeld,
		SetupRate: 1000,
		// 4,900 is near what RLIMIT_NOFILE 20,000 holds (4 descriptors per
		// call); the larger steps run where the hard limit can be raised.
		Steps:         []int{1000, 4000, 4900, 8000, 12000, 16000},
		QuickSteps:    []int{1000},
		Duration:      3 * time.Second,
		QuickDuration: time.Second,
		Servers:       []string{"gopbx"},
		Baseline:      "Asterisk, recorded in issue 7 (not measured here): 441 KB RSS per held call, about 2,000 held calls before its 20,000 file-descriptor limit.",
	},
	{
		// The same ramp with direct_media=yes on both endpoints: gopbx
		// keeps the dialogs and channels but no media, so neither the
		// descriptors nor rtp.conf's range limit it.
		Name:          "held-calls-direct",
		Title:         "Concurrent held calls (direct media: signalling only, no media sockets)",
		Op:            "held call",
		Kind:          kindHeld,
		DirectMedia:   true,
		SetupRate:     1000,
		Steps:         []int{1000, 5000, 10000, 20000},
		QuickSteps:    []int{1000},
		Duration:      3 * time.Second,
		QuickDuration: time.Second,
		Servers:       []string{"gopbx"},
	},
}

func (w workload) warmUp() time.Duration {
	if w.WarmUp > 0 {
		return w.WarmUp
	}
	return time.Second
}

// mediaPorts is the UDP ports, and descriptors, gopbx opens per call of a
// media workload: RTP and RTCP for each of the two anchored legs, none with
// direct media.
func (w workload) mediaPorts() int {
	if w.DirectMedia {
		return 0
	}
	return portsPerCall
}

// stepPlan is the steps and durations of a workload for one server.
type stepPlan struct {
	Steps, QuickSteps       []int
	Duration, QuickDuration time.Duration
}

// plan returns the steps and durations server runs the workload with:
// its PerServer entry, else the workload's own.
func (w workload) plan(server string) stepPlan {
	if p, ok := w.PerServer[server]; ok {
		return p
	}
	return stepPlan{w.Steps, w.QuickSteps, w.Duration, w.QuickDuration}
}

func (w workload) steps(quick bool) []int { return w.plan("").steps(quick) }

func (w workload) duration(quick bool) time.Duration { return w.plan("").duration(quick) }

func (p stepPlan) steps(quick bool) []int {
	if quick {
		return p.QuickSteps
	}
	return p.Steps
}

func (p stepPlan) duration(quick bool) time.Duration {
	if quick {
		return p.QuickDuration
	}
	return p.Duration
}

// A server under test. Each has its own loopback address; its SIPp client
// uses the next address, a UAS behind it the one after.
type server struct {
	Name   string
	Label  string
	IP     string // the server's SIP address (port 5060)
	SIPpIP string // the load generator's address (port 5070)
	UASIP  string // a SIPp UAS behind the server (port 5080)
	// start launches the server with its config under dir and returns it
	// once started (readiness is checked by the caller).
	start func(b *bench, s *server, w workload, dir string) (*proc, error)
	// afterRun, when set, adds what is particular to the server to a run's
	// result once SIPp has finished and the server has been stopped.
	afterRun func(b *bench, dir string, r *runResult)
}

const (
	serverPort = 5060
	sippPort   = 5070
	uasPort    = 5080
	nUsers     = 1000
)

var servers = []*server{
	{Name: "gopbx", Label: "gopbx", IP: "127.0.91.1", SIPpIP: "127.0.91.2", UASIP: "127.0.91.3", start: startGopbx},
	{Name: "kamailio", Label: "Kamailio", IP: "127.0.92.1", SIPpIP: "127.0.92.2", UASIP: "127.0.92.3", start: startKamailio},
	// Kamailio with usrloc writing through to SQLite (kamailiodb.go).
	{Name: "kamailio-db", Label: "Kamailio+SQLite", IP: "127.0.93.1", SIPpIP: "127.0.93.2", UASIP: "127.0.93.3", start: startKamailioDB, afterRun: kamailioDBAfterRun},
}

func serverByName(name string) *server {
	for _, s := range servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func userName(i int) string { return fmt.Sprintf("u%04d", i) }
func userPass(i int) string { return fmt.Sprintf("pw%04d", i) }

// usersCSV is SIPp's -inf file: field0 user, field1 password.
func usersCSV() string {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for i := 1; i <= nUsers; i++ {
		fmt.Fprintf(&b, "%s;%s\n", userName(i), userPass(i))
	}
	return b.String()
}

// gopbxConf is the pjsip.conf of the benchmark: UDP on ip:5060 and the
// 1,000 users as endpoint/auth/aor triples sharing the user's name.
func gopbxConf(s *server, w workload) string {
	ip := s.IP
	var b strings.Builder
	fmt.Fprintf(&b, `; gopbx benchmark configuration, written by bench/cmd/sipbench
[global]
type=global
user_agent=gopbx-bench

[transport-udp]
type=transport
protocol=udp
bind=%s:%d

[bench-endpoint](!)
type=endpoint
context=bench
disallow=all
allow=ulaw

[bench-aor](!)
type=aor
max_contacts=5

`, ip, serverPort)
	if w.UASScenario != "" {
		// The caller is identified by its address, as a trunk; the callee
		// is the SIPp UAS, an AOR with a static contact.
		fmt.Fprintf(&b, `[caller](bench-endpoint)

[caller]
type=identify
endpoint=caller
match=%s

[callee](bench-endpoint)
aors=callee

[callee]
type=aor
contact=sip:callee@%s:%d

`, s.SIPpIP, s.UASIP, uasPort)
	}
	for i := 1; i <= nUsers; i++ {
		u := userName(i)
		fmt.Fprintf(&b, "[%[1]s](bench-endpoint)\nauth=%[1]s\naors=%[1]s\n\n[%[1]s]\ntype=auth\nauth_type=userpass\nusername=%[1]s\npassword=%[2]s\n\n[%[1]s](bench-aor)\n\n", u, userPass(i))
	}
	return b.String()
}

// The RTP range of the SIPp call loads (see the note in results.go): the
// media loads' (mediaRange), room for 12,500 anchored calls.
const (
	callRTPStart = 10000
	callRTPEnd   = 60000
)

func startGopbx(b *bench, s *server, w workload, dir string) (*proc, error) {
	conf := filepath.Join(dir, "conf")
	data := filepath.Join(dir, "data")
	for _, d := range []string{conf, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(conf, "pjsip.conf"), []byte(gopbxConf(s, w)), 0o644); err != nil {
		return nil, err
	}
	// The load comes from one address at thousands of requests per second:
	// gopbx's fail2ban-like shield (gopbx.conf [security]) must let it be.
	sec := fmt.Sprintf("; gopbx benchmark settings, written by bench/cmd/sipbench\n[security]\ninvite_rate = 0\nban_ignore = %s/24\n%s\n", s.SIPpIP, b.security)
	if err := os.WriteFile(filepath.Join(conf, "gopbx.conf"), []byte(sec), 0o644); err != nil {
		return nil, err
	}
	if w.UASScenario != "" {
		rtp := fmt.Sprintf("; written by bench/cmd/sipbench\n[general]\nrtpstart=%d\nrtpend=%d\n", callRTPStart, callRTPEnd)
		if err := os.WriteFile(filepath.Join(conf, "rtp.conf"), []byte(rtp), 0o644); err != nil {
			return nil, err
		}
		ext := fmt.Sprintf("; gopbx benchmark dialplan, written by bench/cmd/sipbench\n[bench]\nexten => %s,1,Dial(PJSIP/callee,10)\n same => n,Hangup()\n", w.Service)
		if err := os.WriteFile(filepath.Join(conf, "extensions.conf"), []byte(ext), 0o644); err != nil {
			return nil, err
		}
	}
	args := []string{b.gopbx, "-C", conf, "-data", data}
	if b.pprof != "" {
		args = append(args, "-pprof", b.pprof)
	}
	return startProc("gopbx", dir, filepath.Join(dir, "gopbx.log"), args...)
}

// kamailioHtable writes the db_text table the htable module loads the
// passwords from (bench/kamailio/registrar.cfg) and returns its directory.
func kamailioHtable(dir string) (string, error) {
	db := filepath.Join(dir, "htable")
	if err := os.MkdirAll(db, 0o755); err != nil {
		return "", err
	}
	var t strings.Builder
	t.WriteString("key_name(str) key_type(int) value_type(int) key_value(str) expires(int)\n")
	for i := 1; i <= nUsers; i++ {
		fmt.Fprintf(&t, "%s:0:0:%s:0\n", userName(i), userPass(i))
	}
	return db, os.WriteFile(filepath.Join(db, "users"), []byte(t.String()), 0o644)
}

func startKamailio(b *bench, s *server, w workload, dir string) (*proc, error) {
	return startKamailioCfg(b, s, w, dir, b.kamailioCfg)
}

// startKamailioCfg starts Kamailio on cfg with the benchmark's address,
// memory and htable; extra are further command-line arguments (-A defines).
func startKamailioCfg(b *bench, s *server, w workload, dir, cfg string, extra ...string) (*proc, error) {
	db, err := kamailioHtable(dir)
	if err != nil {
		return nil, err
	}
	shm := w.KamailioShm
	if shm == 0 {
		shm = 512
	}
	args := []string{b.kamailio, "-DD", "-E",
		"-f", cfg,
		"-l", fmt.Sprintf("udp:%s:%d", s.IP, serverPort),
		"-m", fmt.Sprint(shm), "-M", "16", "-Y", dir,
		"-A", fmt.Sprintf("BENCH_HTABLE_DB_URL=\"text://%s\"", db),
		"-A", fmt.Sprintf("BENCH_UAS=\"sip:%s:%d\"", s.UASIP, uasPort)}
	for _, d := range w.KamailioDefines {
		args = append(args, "-A", d)
	}
	args = append(args, extra...)
	return startProc("kamailio", dir, filepath.Join(dir, "kamailio.log"), args...)
}
