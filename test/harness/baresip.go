package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// baresipModuleDir is where Debian's baresip-core puts its modules.
var baresipModuleDirs = []string{"/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules", "/usr/local/lib/baresip/modules"}

// BaresipOptions configures one baresip user agent.
type BaresipOptions struct {
	// Name labels the instance in logs ("alice").
	Name string
	// IP is the UA's own loopback address (required). SIP listens on
	// IP:SIPPort (UDP and TCP), the control socket on IP:CtrlPort, RTP on
	// IP in RTPPorts.
	IP       string
	SIPPort  int    // default 5060
	CtrlPort int    // default 4444
	RTPPorts string // "A-B", default "20000-20999"
	// User, Password and AuthUser (default User) make the account
	// <sip:User@Domain;transport=Transport>.
	User     string
	Password string
	AuthUser string
	// Domain is the registrar, "ip:port" (required).
	Domain string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// RegInt is the registration interval in seconds (default 600);
	// -1 disables registration.
	RegInt int
	// AnswerMode is "auto" (default) or "manual".
	AnswerMode string
	// AudioFile is the WAV (8 kHz mono S16) sent in calls; default a
	// ToneHz sine of 60 s.
	AudioFile string
	ToneHz    float64 // default 1000
	// Record dumps decoded received audio under RecordDir() (sndfile.so).
	Record bool
	// Codecs is the account's audio_codecs list, default "PCMU,PCMA";
	// G722 and opus load their modules.
	Codecs string
	// MediaEnc is the account's mediaenc ("srtp-mand": SDES SRTP only);
	// it loads srtp.so.
	MediaEnc string
	// Lifetime bounds the process (-t), default 90 s.
	Lifetime time.Duration
	// ExtraConfig lines are appended to the config file, AccountParams to
	// the account line (";key=value...").
	ExtraConfig   string
	AccountParams string
}

// Baresip is a running baresip controlled over its ctrl_tcp socket.
type Baresip struct {
	t       testing.TB
	opts    BaresipOptions
	dir     string
	logPath string
	proc    *proc

	conn    net.Conn
	mu      sync.Mutex
	cond    *sync.Cond
	events  []BaresipEvent
	taken   []bool
	waiters map[string]chan BaresipResponse
	readErr error
	token   int
}

// BaresipEvent is an asynchronous ctrl_tcp event, e.g. CALL_ESTABLISHED.
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
	Raw        string `json:"-"`
}

// BaresipResponse answers a ctrl_tcp command.
type BaresipResponse struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// StartBaresip writes a config directory, starts baresip and connects to
// its control socket. Cleanup quits it (SIGTERM, then SIGKILL).
func StartBaresip(t testing.TB, opts BaresipOptions) *Baresip {
	t.Helper()
	return startBaresip(t, opts, nil)
}

// startBaresip starts baresip on the host (ns nil: loopback addresses
// only) or inside ns, where its control socket is opened from too.
func startBaresip(t testing.TB, opts BaresipOptions, ns *Netns) *Baresip {
	t.Helper()
	bin := RequireTool(t, "baresip")
	if opts.IP == "" || opts.Domain == "" {
		t.Fatal("harness: BaresipOptions.IP and Domain are required")
	}
	if ns == nil {
		mustLoopback(t, "BaresipOptions.IP", opts.IP)
		mustLoopback(t, "BaresipOptions.Domain", opts.Domain)
	}
	if opts.Name == "" {
		opts.Name = opts.User
	}
	if opts.SIPPort == 0 {
		opts.SIPPort = 5060
	}
	if opts.CtrlPort == 0 {
		opts.CtrlPort = 4444
	}
	if opts.RTPPorts == "" {
		opts.RTPPorts = "20000-20999"
	}
	if opts.AuthUser == "" {
		opts.AuthUser = opts.User
	}
	if opts.Transport == "" {
		opts.Transport = "udp"
	}
	if opts.RegInt == 0 {
		opts.RegInt = 600
	}
	if opts.AnswerMode == "" {
		opts.AnswerMode = "auto"
	}
	if opts.ToneHz == 0 {
		opts.ToneHz = 1000
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = 90 * time.Second
	}
	modDir := ""
	for _, d := range baresipModuleDirs {
		if _, err := os.Stat(filepath.Join(d, "g711.so")); err == nil {
			modDir = d
			break
		}
	}
	if modDir == "" {
		t.Fatalf("harness: baresip modules (g711.so) not found in %v", baresipModuleDirs)
	}
	b := &Baresip{t: t, opts: opts, dir: t.TempDir(), waiters: map[string]chan BaresipResponse{}}
	b.cond = sync.NewCond(&b.mu)
	if opts.AudioFile == "" {
		opts.AudioFile = filepath.Join(b.dir, "tone.wav")
		if err := WriteToneWAV(opts.AudioFile, opts.ToneHz, 60); err != nil {
			t.Fatal(err)
		}
		b.opts.AudioFile = opts.AudioFile
	}
	if err := os.MkdirAll(b.RecordDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(b.config(modDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(b.account()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.logPath = filepath.Join(b.dir, "baresip.log")
	argv := []string{bin, "-f", b.dir, "-s", "-t", strconv.Itoa(int(opts.Lifetime.Seconds()))}
	label := opts.Name
	connect := func() error { return b.connect(10 * time.Second) }
	if ns != nil {
		argv = ns.Command(argv...)
		label += " (" + ns.Name + ")"
		connect = func() error { return ns.Do(func() error { return b.connect(10 * time.Second) }) }
	}
	dumpOnFailure(t, "baresip "+label, b.logPath)
	pr, err := startProc("baresip "+opts.Name, b.logPath, b.dir, nil, argv...)
	if err != nil {
		t.Fatal(err)
	}
	b.proc = pr
	t.Cleanup(b.Stop)
	if err := connect(); err != nil {
		t.Fatalf("harness: baresip %s: %v", label, err)
	}
	return b
}

func (b *Baresip) config(modDir string) string {
	o := b.opts
	player := "alsa,null"
	var mods []string
	mods = append(mods, "g711.so", "aufile.so", "alsa.so")
	if o.Record {
		mods = append(mods, "sndfile.so")
	}
	if o.MediaEnc != "" {
		mods = append(mods, "srtp.so")
	}
	for _, c := range strings.Split(strings.ToLower(o.Codecs), ",") {
		switch c {
		case "g722":
			mods = append(mods, "g722.so")
		case "opus":
			mods = append(mods, "opus.so")
		}
	}
	var sb strings.Builder
	w := func(k, v string) { fmt.Fprintf(&sb, "%-24s%s\n", k, v) }
	w("poll_method", "epoll")
	w("sip_listen", HostPort(o.IP, o.SIPPort))
	w("net_interface", o.IP)
	w("call_local_timeout", "120")
	w("call_max_calls", "4")
	w("audio_player", player)
	w("audio_source", "aufile,"+o.AudioFile)
	w("audio_alert", player)
	w("ausrc_srate", "8000")
	w("ausrc_channels", "1")
	w("auplay_srate", "8000")
	w("auplay_channels", "1")
	w("rtp_ports", o.RTPPorts)
	w("rtp_timeout", "0")
	w("snd_path", b.RecordDir())
	w("module_path", modDir)
	for _, m := range mods {
		w("module", m)
	}
	w("module_app", "account.so")
	w("module_app", "menu.so")
	w("module_app", "ctrl_tcp.so")
	w("ctrl_tcp_listen", HostPort(o.IP, o.CtrlPort))
	sb.WriteString(o.ExtraConfig)
	return sb.String()
}

func (b *Baresip) account() string {
	o := b.opts
	codecs := o.Codecs
	if codecs == "" {
		codecs = "PCMU,PCMA"
	}
	if o.MediaEnc != "" {
		codecs += ";mediaenc=" + o.MediaEnc
	}
	reg := "regint=" + strconv.Itoa(o.RegInt)
	if o.RegInt < 0 {
		reg = "regint=0"
	}
	return fmt.Sprintf("<sip:%s@%s;transport=%s>;auth_user=%s;auth_pass=%s;answermode=%s;%s;audio_codecs=%s%s",
		o.User, o.Domain, o.Transport, o.AuthUser, o.Password, o.AnswerMode, reg, codecs, o.AccountParams)
}

// AOR is the account's address of record as baresip names it in events.
func (b *Baresip) AOR() string { return "sip:" + b.opts.User + "@" + b.opts.Domain }

// Addr is the UA's SIP address, "ip:port".
func (b *Baresip) Addr() string { return HostPort(b.opts.IP, b.opts.SIPPort) }

// RecordDir holds the *-dec.wav dumps of received audio when Record is set.
// A dump's WAV header is final only after the call's audio is torn down;
// read them after Stop.
func (b *Baresip) RecordDir() string { return filepath.Join(b.dir, "rec") }

// Log returns baresip's output so far (with -s, every SIP message).
func (b *Baresip) Log() string { return readLog(b.logPath) }

func (b *Baresip) connect(timeout time.Duration) error {
	addr := HostPort(b.opts.IP, b.opts.CtrlPort)
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp4", addr, time.Second)
		if err == nil {
			b.conn = c
			go b.readLoop(c)
			return nil
		}
		if b.proc.exited() {
			return fmt.Errorf("exited during startup (%v)", b.proc.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("control socket %s not up within %v: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readLoop decodes netstrings ("LEN:JSON,") from the control socket.
func (b *Baresip) readLoop(c net.Conn) {
	br := bufio.NewReader(c)
	var err error
	for {
		var msg []byte
		msg, err = readNetstring(br)
		if err != nil {
			break
		}
		var head struct {
			Event    bool   `json:"event"`
			Response bool   `json:"response"`
			Token    string `json:"token"`
		}
		if json.Unmarshal(msg, &head) != nil {
			continue
		}
		switch {
		case head.Event:
			var ev BaresipEvent
			if json.Unmarshal(msg, &ev) == nil {
				ev.Raw = string(msg)
				b.mu.Lock()
				b.events = append(b.events, ev)
				b.taken = append(b.taken, false)
				b.cond.Broadcast()
				b.mu.Unlock()
			}
		case head.Response:
			var r BaresipResponse
			_ = json.Unmarshal(msg, &r)
			b.mu.Lock()
			ch := b.waiters[head.Token]
			delete(b.waiters, head.Token)
			b.mu.Unlock()
			if ch != nil {
				ch <- r
			}
		}
	}
	b.mu.Lock()
	b.readErr = err
	for tok, ch := range b.waiters {
		close(ch)
		delete(b.waiters, tok)
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

func readNetstring(br *bufio.Reader) ([]byte, error) {
	lenStr, err := br.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("harness: bad netstring length %q", lenStr)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("harness: netstring without trailing comma")
	}
	return buf[:n], nil
}

// Command sends a ctrl_tcp command (a menu command without the slash:
// "dial", "hangup", "reginfo", "accept", "sndcode", "quit") and waits up to
// 5 s for its response.
func (b *Baresip) Command(cmd, params string) (BaresipResponse, error) {
	b.mu.Lock()
	b.token++
	tok := "h" + strconv.Itoa(b.token)
	ch := make(chan BaresipResponse, 1)
	b.waiters[tok] = ch
	b.mu.Unlock()
	req := map[string]string{"command": cmd, "token": tok}
	if params != "" {
		req["params"] = params
	}
	js, _ := json.Marshal(req)
	_ = b.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(js), js); err != nil {
		return BaresipResponse{}, fmt.Errorf("harness: baresip %s: %s: %w", b.opts.Name, cmd, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return BaresipResponse{}, fmt.Errorf("harness: baresip %s: %s: control socket closed", b.opts.Name, cmd)
		}
		if !r.OK {
			return r, fmt.Errorf("harness: baresip %s: %s %s: %s", b.opts.Name, cmd, params, strings.TrimSpace(r.Data))
		}
		return r, nil
	case <-time.After(5 * time.Second):
		b.mu.Lock()
		delete(b.waiters, tok)
		b.mu.Unlock()
		return BaresipResponse{}, fmt.Errorf("harness: baresip %s: %s: no response within 5s", b.opts.Name, cmd)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// RegInfo returns the "reginfo" output without terminal colours.
func (b *Baresip) RegInfo() (string, error) {
	r, err := b.Command("reginfo", "")
	return ansi.ReplaceAllString(r.Data, ""), err
}

// Registered reports whether reginfo shows the account registered (OK).
func (b *Baresip) Registered() (bool, string, error) {
	info, err := b.RegInfo()
	if err != nil {
		return false, info, err
	}
	for _, line := range strings.Split(info, "\n") {
		f := strings.Fields(line)
		// "> sip:1000@127.0.0.2:5060   OK  Server Expires 600s"
		for i, x := range f {
			if strings.HasPrefix(x, "sip:"+b.opts.User+"@") && i+1 < len(f) {
				if f[i+1] == "OK" {
					return true, info, nil
				}
			}
		}
	}
	return false, info, nil
}

// WaitRegistered polls reginfo until the account is registered.
func (b *Baresip) WaitRegistered(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, info, err := b.Registered()
		if ok {
			return nil
		}
		if b.proc.exited() {
			return fmt.Errorf("harness: baresip %s exited (%v) before registering", b.opts.Name, b.proc.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("harness: baresip %s not registered within %v (err %v); reginfo:\n%s", b.opts.Name, timeout, err, info)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitEvent returns the first event of type typ (e.g. "CALL_ESTABLISHED")
// that no earlier WaitEvent returned, waiting up to timeout.
func (b *Baresip) WaitEvent(typ string, timeout time.Duration) (BaresipEvent, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for i, ev := range b.events {
			if !b.taken[i] && ev.Type == typ {
				b.taken[i] = true
				return ev, nil
			}
		}
		if b.readErr != nil {
			return BaresipEvent{}, fmt.Errorf("harness: baresip %s: waiting for %s: control socket closed: %v", b.opts.Name, typ, b.readErr)
		}
		if !time.Now().Before(deadline) {
			var seen []string
			for _, ev := range b.events {
				seen = append(seen, ev.Type+"("+ev.Param+")")
			}
			return BaresipEvent{}, fmt.Errorf("harness: baresip %s: no %s event within %v; events so far: %v", b.opts.Name, typ, timeout, seen)
		}
		b.cond.Wait()
	}
}

// Events returns every event received so far.
func (b *Baresip) Events() []BaresipEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BaresipEvent(nil), b.events...)
}

// Dial calls uri ("sip:1001@127.0.21.1:5060").
func (b *Baresip) Dial(uri string) error {
	_, err := b.Command("dial", uri)
	return err
}

// Hangup ends the current call.
func (b *Baresip) Hangup() error {
	_, err := b.Command("hangup", "")
	return err
}

// Accept answers the ringing call (AnswerMode "manual").
func (b *Baresip) Accept() error {
	_, err := b.Command("accept", "")
	return err
}

// SendDTMF sends one DTMF digit in the current call.
func (b *Baresip) SendDTMF(digit string) error {
	_, err := b.Command("sndcode", digit)
	return err
}

// Stop quits baresip (it unregisters first), then SIGTERM, then SIGKILL.
// It is safe to call more than once.
func (b *Baresip) Stop() {
	if b.proc.exited() {
		return
	}
	if b.conn != nil {
		_, _ = b.Command("quit", "")
	}
	select {
	case <-b.proc.done:
	case <-time.After(3 * time.Second):
		b.proc.stop(syscall.SIGTERM, 3*time.Second)
	}
	if b.conn != nil {
		b.conn.Close()
	}
}
