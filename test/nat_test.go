package test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Passwords of the endpoints in natPJSIPConf and natSIPConf.
var natPasswords = map[string]string{
	"2000": "pw-2000", // pjsip, rewrite_contact=yes force_rport=yes
	"2001": "pw-2001", // sip.conf, nat=force_rport,comedia
	"2002": "pw-2002", // pjsip, rewrite_contact=no force_rport=no
	"2003": "pw-2003", // sip.conf, nat=no
}

// natPJSIPConf: 2000 handles NAT, 2002 does not; both qualify every 2 s.
func natPJSIPConf(ip string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `[transport-udp]
type=transport
protocol=udp
bind=%s:5060
`, ip)
	for _, ep := range []struct{ name, nat string }{{"2000", "yes"}, {"2002", "no"}} {
		fmt.Fprintf(&sb, `
[%[1]s]
type=endpoint
context=default
disallow=all
allow=ulaw
auth=%[1]s
aors=%[1]s
rewrite_contact=%[2]s
force_rport=%[2]s

[%[1]s]
type=auth
auth_type=userpass
username=%[1]s
password=%[3]s

[%[1]s]
type=aor
max_contacts=1
remove_existing=yes
qualify_frequency=2
`, ep.name, ep.nat, natPasswords[ep.name])
	}
	return sb.String()
}

// natSIPConf: 2001 handles NAT, 2003 does not; both qualify every 2 s
// (qualify=yes: 2 s timeout). It binds the address pjsip.conf binds, which
// gopbx merges into one listener.
func natSIPConf(ip string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `[general]
context=default
bindaddr=%s
bindport=5060
`, ip)
	for _, p := range []struct{ name, nat string }{{"2001", "force_rport,comedia"}, {"2003", "no"}} {
		fmt.Fprintf(&sb, `
[%s]
type=friend
host=dynamic
secret=%s
context=default
nat=%s
qualify=yes
qualifyfreq=2
`, p.name, natPasswords[p.name], p.nat)
	}
	return sb.String()
}

// A phone behind a NAT registers with gopbx, which runs in a network
// namespace with no route to the phone's private network. gopbx stores the
// Contact as sent (the private address) and the REGISTER's source (the
// NAT's public address and mapped port). With NAT handling on
// (rewrite_contact/force_rport, nat=force_rport,comedia) its qualify
// OPTIONS go to that source, through the NAT, and the contact becomes
// Avail / OK; with it off they go to the private Contact address, which
// gopbx cannot reach, and the contact must end Unavail / UNREACHABLE — the
// control that shows the positive cases can fail.
//
// pjsip.conf is exercised with baresip (it answers OPTIONS itself),
// sip.conf with SIPp (register_qualify.xml fails unless OPTIONS arrive).
// Needs root for the namespaces (harness.NewNATNetwork); skipped otherwise,
// failed with CI=true.
func TestNATRegisterAndQualify(t *testing.T) {
	t.Parallel()
	harness.RequireNetns(t)
	harness.RequireTool(t, "baresip")
	harness.RequireTool(t, "sipp")
	n := harness.NewNATNetwork(t)
	pbx := harness.StartPBXInNetns(t, n.PBX, harness.PBXOptions{IP: n.PBXIP, Files: map[string]string{
		"pjsip.conf": natPJSIPConf(n.PBXIP),
		"sip.conf":   natSIPConf(n.PBXIP),
	}})
	// Every SIP message goes to gopbx's log with its local and remote
	// address: the record of where the OPTIONS went.
	pbx.Console(t, "sip set debug on")

	t.Run("pjsip", func(t *testing.T) {
		t.Parallel()
		phone := startNATBaresip(t, n, pbx, "2000", 5060, 4444, "20000-20099")
		hp := harness.HostPort(n.PhoneIP, 5060)
		out := contacts(t, pbx)
		if !hasContact(out, "2000", "", hp) {
			t.Fatalf("pjsip show contacts: no contact of 2000 with the private address %s as the phone sent it:\n%s", hp, out)
		}
		mapped := natReceivedFrom(t, pbx, "PJSIP/2000", n.RouterPublicIP)
		pbx.WaitConsole(t, "pjsip show contacts", 10*time.Second, func(out string) bool {
			return natContactStatus(out, "2000", hp) == "Avail"
		})
		natRequireOptionsTo(t, pbx, "2000", mapped)
		if !strings.Contains(phone.Log(), "OPTIONS sip:") {
			t.Errorf("gopbx shows 2000 Avail, but baresip never logged an OPTIONS")
		}
	})

	t.Run("pjsip-no-nat", func(t *testing.T) {
		t.Parallel()
		phone := startNATBaresip(t, n, pbx, "2002", 5062, 4445, "20100-20199")
		hp := harness.HostPort(n.PhoneIP, 5062)
		out := contacts(t, pbx)
		if !hasContact(out, "2002", "", hp) {
			t.Fatalf("pjsip show contacts: no contact of 2002 with the private address %s:\n%s", hp, out)
		}
		natReceivedFrom(t, pbx, "PJSIP/2002", n.RouterPublicIP)
		pbx.WaitConsole(t, "pjsip show contacts", 10*time.Second, func(out string) bool {
			return natContactStatus(out, "2002", hp) == "Unavail"
		})
		// It must stay so over further qualify rounds.
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			if out := contacts(t, pbx); natContactStatus(out, "2002", hp) != "Unavail" {
				t.Fatalf("2002 (rewrite_contact=no) left Unavail; gopbx must not reach a private Contact address:\n%s", out)
			}
		}
		t.Logf("gopbx: %s", natQualifyLine(pbx, "2002"))
		if strings.Contains(phone.Log(), "OPTIONS sip:") {
			t.Errorf("baresip 2002 received an OPTIONS although its Contact %s is not routable from gopbx:\n%s", hp, phone.Log())
		}
	})

	t.Run("sipconf", func(t *testing.T) {
		t.Parallel()
		const port = 5070
		s := startNATSIPp(t, n, pbx, "2001", port)
		row := natWaitPeer(t, pbx, "2001", 12*time.Second, func(row string) bool { return strings.Contains(row, "OK (") })
		r := s.Wait()
		if !r.OK() {
			t.Fatalf("register_qualify for 2001: exit %d, %d failed; gopbx showed %q but SIPp did not answer 3 OPTIONS", r.ExitCode, r.Failed, row)
		}
		mapped := natCheckSIPPeer(t, pbx, n, "2001", port)
		if f := strings.Fields(row); len(f) < 2 || f[1] != n.RouterPublicIP || !strings.Contains(row, " "+strconv.Itoa(mapped)+" ") {
			t.Errorf("sip show peers: row of 2001 does not show host %s port %d: %q", n.RouterPublicIP, mapped, row)
		}
		natRequireOptionsTo(t, pbx, "2001", harness.HostPort(n.RouterPublicIP, mapped))
	})

	t.Run("sipconf-no-nat", func(t *testing.T) {
		t.Parallel()
		const port = 5072
		s := startNATSIPp(t, n, pbx, "2003", port)
		t.Log("register_qualify for 2003 must fail for want of OPTIONS; the SIPp failure logged next is expected")
		r := s.Wait()
		// The scenario registers, then fails for want of OPTIONS: this is
		// also the proof that register_qualify.xml can fail.
		if r.OK() || r.Failed != 1 || !strings.Contains(r.Errors+r.Output, "options_answered") {
			t.Fatalf("register_qualify for 2003 (nat=no): exit %d, %d successful, %d failed; want a failed call for lack of OPTIONS (errors: %s)",
				r.ExitCode, r.Successful, r.Failed, r.Errors)
		}
		natCheckSIPPeer(t, pbx, n, "2003", port)
		natWaitPeer(t, pbx, "2003", 5*time.Second, func(row string) bool { return strings.Contains(row, "UNREACHABLE") })
		t.Logf("gopbx: %s", natQualifyLine(pbx, "2003"))
	})
}

// startNATBaresip starts baresip as user behind the NAT and waits until
// it is registered.
func startNATBaresip(t *testing.T, n *harness.NATNetwork, pbx *harness.PBX, user string, sipPort, ctrlPort int, rtp string) *harness.Baresip {
	t.Helper()
	ua := harness.StartBaresipInNetns(t, n.Phone, harness.BaresipOptions{
		Name: "phone-" + user, IP: n.PhoneIP, SIPPort: sipPort, CtrlPort: ctrlPort, RTPPorts: rtp,
		User: user, Password: natPasswords[user], Domain: pbx.Addr(), RegInt: 60, Lifetime: 45 * time.Second,
	})
	if err := ua.WaitRegistered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return ua
}

// startNATSIPp starts register_qualify.xml as user from the phone's
// address, answering OPTIONS with the out-of-call scenario.
func startNATSIPp(t *testing.T, n *harness.NATNetwork, pbx *harness.PBX, user string, port int) *harness.SIPp {
	t.Helper()
	return harness.StartSIPpInNetns(t, n.Phone, harness.SIPpOptions{
		Scenario: "register_qualify", Remote: pbx.Addr(), LocalIP: n.PhoneIP, LocalPort: port,
		Users:     "SEQUENTIAL\n" + user + ";" + natPasswords[user] + "\n",
		Timeout:   25 * time.Second,
		ExtraArgs: []string{"-oocsf", harness.ScenarioPath(t, "ooc_answer_options")},
	})
}

// natContactStatus returns the status column of aor's contact at hostport in
// `pjsip show contacts` output, or "".
func natContactStatus(out, aor, hostport string) string {
	for _, row := range contactLines(out) {
		f := strings.Fields(row)
		if len(f) >= 4 && strings.HasPrefix(f[1], aor+"/sip:") && strings.Contains(f[1], "@"+hostport) {
			return f[3]
		}
	}
	return ""
}

// natReceivedFrom finds the source address gopbx logged for endpoint's
// REGISTER, requires it to be the NAT's public address with a port from
// the NAT's mapping range, and returns it.
func natReceivedFrom(t *testing.T, pbx *harness.PBX, endpoint, publicIP string) string {
	t.Helper()
	re := regexp.MustCompile(`msg=registered .*endpoint=` + regexp.QuoteMeta(endpoint) + ` contacts=[1-9][0-9]* received=([0-9.]+):([0-9]+)`)
	m := re.FindStringSubmatch(pbx.Log())
	if m == nil {
		t.Fatalf("gopbx log: no registered line for %s with a received address", endpoint)
	}
	port, _ := strconv.Atoi(m[2])
	if m[1] != publicIP || port < harness.MappedPortMin || port > harness.MappedPortMax {
		t.Fatalf("gopbx stored %s:%s as the source of %s's REGISTER; want the NAT's %s with a port in %d-%d",
			m[1], m[2], endpoint, publicIP, harness.MappedPortMin, harness.MappedPortMax)
	}
	return harness.HostPort(m[1], port)
}

// natOptionsTrace matches gopbx's trace of an OPTIONS it sent: local and
// remote address, then the request line.
var natOptionsTrace = regexp.MustCompile(`msg="sip trace" .*dir=out transport=\S+ local=(\S+) remote=(\S+) msg="OPTIONS sip:(\d+)`)

// natRequireOptionsTo checks in gopbx's trace that the OPTIONS to user went
// to dest, from the address the phone registered to, and nowhere else.
func natRequireOptionsTo(t *testing.T, pbx *harness.PBX, user, dest string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(pbx.Log(), "\n") {
		m := natOptionsTrace.FindStringSubmatch(line)
		if m == nil || m[3] != user {
			continue
		}
		n++
		if m[2] != dest {
			t.Errorf("gopbx sent an OPTIONS for %s to %s, want the NAT mapping %s", user, m[2], dest)
		}
		if m[1] != pbx.Addr() {
			t.Errorf("gopbx sent an OPTIONS for %s from %s, not from %s where the phone registered: the NAT drops it", user, m[1], pbx.Addr())
		}
	}
	if n == 0 {
		t.Errorf("gopbx's SIP trace has no OPTIONS for %s", user)
	}
}

// natWaitPeer polls `sip show peers` until ok accepts the row of peer, and
// returns that row.
func natWaitPeer(t *testing.T, pbx *harness.PBX, peer string, timeout time.Duration, ok func(row string) bool) string {
	t.Helper()
	out := pbx.WaitConsole(t, "sip show peers", timeout, func(out string) bool { return ok(natPeerRow(out, peer)) })
	return natPeerRow(out, peer)
}

// natPeerRow is the row of peer in `sip show peers` output, or "".
func natPeerRow(out, peer string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == peer || strings.HasPrefix(f[0], peer+"/")) {
			return line
		}
	}
	return ""
}

// natCheckSIPPeer requires `sip show peer` to list the Contact as sent (the
// phone's private address and port) and the NAT's public address as its
// source, and returns the mapped port.
func natCheckSIPPeer(t *testing.T, pbx *harness.PBX, n *harness.NATNetwork, peer string, port int) int {
	t.Helper()
	out := pbx.Console(t, "sip show peer "+peer)
	if !strings.Contains(out, "@"+harness.HostPort(n.PhoneIP, port)) {
		t.Errorf("sip show peer %s: no Contact with the private address %s:%d as sent:\n%s", peer, n.PhoneIP, port, out)
	}
	m := regexp.MustCompile(`Addr->IP\s*:\s*` + regexp.QuoteMeta(n.RouterPublicIP) + `:(\d+) \(udp\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sip show peer %s: source address is not the NAT's %s:\n%s", peer, n.RouterPublicIP, out)
	}
	mapped, _ := strconv.Atoi(m[1])
	if mapped < harness.MappedPortMin || mapped > harness.MappedPortMax {
		t.Fatalf("sip show peer %s: source port %d is outside the NAT's mapping range %d-%d", peer, mapped, harness.MappedPortMin, harness.MappedPortMax)
	}
	return mapped
}

// natQualifyLine is gopbx's last "contact status" log line for aor (it
// logs one per change), for the test log.
func natQualifyLine(pbx *harness.PBX, aor string) string {
	last := "no contact status line for " + aor
	for _, line := range strings.Split(pbx.Log(), "\n") {
		if strings.Contains(line, `msg="contact status"`) && strings.Contains(line, " aor="+aor+" ") {
			last = line
		}
	}
	return last
}
