package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// KamailioOptions configures StartKamailio.
type KamailioOptions struct {
	// IP is the address Kamailio listens on (UDP and TCP port 5060).
	IP string
	// Users maps user name to password.
	Users map[string]string
	// MaxContacts bounds bindings per AOR (default 5).
	MaxContacts int
}

// Kamailio is a reference registrar and proxy: digest REGISTER against
// Users (401 challenge, 403 when the auth user is not the To user, 423
// below 60 s), location lookup and record-routed relay for calls between
// registered users, 200 with Allow for OPTIONS to itself, 420 for any
// Require, 483 for Max-Forwards 0, 501 for unknown methods. The harness's
// own tests run every scenario and helper against it, which proves the
// helpers right independently of gopbx.
type Kamailio struct {
	opts    KamailioOptions
	logPath string
	proc    *proc
	ctl     string // binrpc socket for RPC ("" without one)
}

// Addr is Kamailio's SIP address.
func (k *Kamailio) Addr() string { return HostPort(k.opts.IP, 5060) }

// Log returns Kamailio's output so far.
func (k *Kamailio) Log() string { return readLog(k.logPath) }

// StartKamailio writes the config, starts Kamailio in the foreground and
// waits until it answers OPTIONS. Cleanup stops it.
func StartKamailio(t testing.TB, opts KamailioOptions) *Kamailio {
	t.Helper()
	bin := RequireTool(t, "kamailio")
	mustLoopback(t, "KamailioOptions.IP", opts.IP)
	if opts.MaxContacts == 0 {
		opts.MaxContacts = 5
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfg, []byte(kamailioConfig(opts)), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &Kamailio{opts: opts, logPath: filepath.Join(dir, "kamailio.log")}
	dumpOnFailure(t, "kamailio", k.logPath)
	pr, err := startProc("kamailio", k.logPath, dir, nil,
		bin, "-DD", "-E", "-f", cfg, "-Y", dir, "-m", "64", "-M", "8")
	if err != nil {
		t.Fatal(err)
	}
	k.proc = pr
	t.Cleanup(func() { pr.stop(syscall.SIGTERM, 5*time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitSIP(ctx, "udp", opts.IP, k.Addr(), pr.done); err != nil {
		t.Fatalf("harness: kamailio: %v", err)
	}
	return k
}

// StartKamailioFile starts Kamailio on an existing config file (such as
// examples/kamailio/dispatcher.cfg) listening on ip:5060, with defines
// passed as -A options ("NAME=value", "NAME=\"string\""), and waits until
// it answers OPTIONS (the config must answer OPTIONS to itself). It also
// defines CTL_SOCKET as a binrpc socket in its own directory: a config
// doing modparam("ctl", "binrpc", CTL_SOCKET) can then be queried with RPC.
// Cleanup stops it.
func StartKamailioFile(t testing.TB, ip, cfg string, defines ...string) *Kamailio {
	t.Helper()
	bin := RequireTool(t, "kamailio")
	mustLoopback(t, "Kamailio IP", ip)
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("harness: kamailio config: %v", err)
	}
	dir := t.TempDir()
	k := &Kamailio{opts: KamailioOptions{IP: ip}, logPath: filepath.Join(dir, "kamailio.log"),
		ctl: "unix:" + filepath.Join(dir, "kamailio_ctl")}
	dumpOnFailure(t, "kamailio", k.logPath)
	argv := []string{bin, "-DD", "-E", "-f", cfg, "-Y", dir, "-m", "64", "-M", "8",
		"-A", fmt.Sprintf("CTL_SOCKET=%q", k.ctl)}
	for _, d := range defines {
		argv = append(argv, "-A", d)
	}
	pr, err := startProc("kamailio", k.logPath, dir, nil, argv...)
	if err != nil {
		t.Fatal(err)
	}
	k.proc = pr
	t.Cleanup(func() { pr.stop(syscall.SIGTERM, 5*time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitSIP(ctx, "udp", ip, k.Addr(), pr.done); err != nil {
		t.Fatalf("harness: kamailio: %v", err)
	}
	return k
}

// RPC runs `kamcmd -s CTL_SOCKET args...` against a Kamailio started by
// StartKamailioFile and returns its output; an error or a run longer than
// 10 s fails the test.
func (k *Kamailio) RPC(t testing.TB, args ...string) string {
	t.Helper()
	if k.ctl == "" {
		t.Fatal("harness: kamailio: RPC needs StartKamailioFile (a CTL_SOCKET)")
	}
	bin := RequireTool(t, "kamcmd")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, bin, append([]string{"-s", k.ctl}, args...)...)
	c.WaitDelay = time.Second
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("harness: kamcmd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func kamailioConfig(o KamailioOptions) string {
	var users []string
	names := make([]string, 0, len(o.Users))
	for u := range o.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		users = append(users, fmt.Sprintf("\t$sht(users=>%s) = \"%s\";", u, o.Users[u]))
	}
	r := strings.NewReplacer(
		"@IP@", o.IP,
		"@MAXC@", fmt.Sprint(o.MaxContacts),
		"@USERS@", strings.Join(users, "\n"),
	)
	return r.Replace(kamailioTemplate)
}

const kamailioTemplate = `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:@IP@:5060
listen=tcp:@IP@:5060
alias="@IP@:5060"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "kex.so"

modparam("htable", "htable", "users=>size=4;")
modparam("registrar", "max_contacts", @MAXC@)
modparam("registrar", "min_expires", 60)
modparam("registrar", "min_expires_mode", 1)

event_route[htable:mod-init] {
@USERS@
}

request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (is_present_hf("Require")) {
		append_to_reply("Unsupported: $hdr(Require)\r\n");
		sl_send_reply("420", "Bad Extension");
		exit;
	}
	if (has_totag()) {
		if (loose_route() || is_method("ACK")) { t_relay(); exit; }
		if (is_method("BYE")) { t_relay(); exit; }
		sl_send_reply("404", "Not Here");
		exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
	if (is_method("OPTIONS") && uri==myself && $rU==$null) {
		append_to_reply("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER\r\n");
		sl_send_reply("200", "OK");
		exit;
	}
	if (is_method("REGISTER")) {
		if (!pv_www_authenticate("$td", "$sht(users=>$au)", "0")) {
			www_challenge("$td", "0");
			exit;
		}
		if ($au != $tU) { sl_send_reply("403", "Forbidden"); exit; }
		if (!save("location")) { sl_reply_error(); }
		exit;
	}
	if (!is_method("INVITE|ACK|BYE|CANCEL|OPTIONS|REGISTER")) { sl_send_reply("501", "Not Implemented"); exit; }
	if (is_method("INVITE")) {
		record_route();
		if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
		t_relay();
		exit;
	}
	sl_send_reply("404", "Not Here");
}
`
