package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// Passwords of the endpoints in pjsipConf.
var passwords = map[string]string{
	"1000": "pw-1000",
	"1001": "pw-1001",
	"1002": "pw-1002",
}

// pjsipConf is the pjsip.conf of most tests: UDP and TCP transports on
// ip:5060; 1000 and 1001 (endpoint, auth and aor sections sharing the
// name, as in Asterisk's documentation) with max_contacts=5; 1002 with a
// separately named auth and max_contacts=1, remove_existing=yes.
func pjsipConf(ip string) string {
	return fmt.Sprintf(`; integration test config
[global]
type=global
user_agent=gopbx-test

[transport-udp]
type=transport
protocol=udp
bind=%[1]s:5060

[transport-tcp]
type=transport
protocol=tcp
bind=%[1]s:5060

[1000]
type=endpoint
context=default
disallow=all
allow=ulaw
auth=1000
aors=1000

[1000]
type=auth
auth_type=userpass
username=1000
password=%[2]s

[1000]
type=aor
max_contacts=5

[1001]
type=endpoint
context=default
disallow=all
allow=ulaw
auth=1001
aors=1001

[1001]
type=auth
auth_type=userpass
username=1001
password=%[3]s

[1001]
type=aor
max_contacts=5

[1002]
type=endpoint
context=default
disallow=all
allow=ulaw
auth=1002-auth
aors=1002

[1002-auth]
type=auth
auth_type=userpass
username=1002
password=%[4]s

[1002]
type=aor
max_contacts=1
remove_existing=yes
`, ip, passwords["1000"], passwords["1001"], passwords["1002"])
}

// startPJSIP claims ip and starts gopbx on pjsipConf(ip).
func startPJSIP(t *testing.T, ip string) *harness.PBX {
	t.Helper()
	harness.RequireTool(t, "sipp") // fail or skip before building anything
	return harness.StartPBX(t, harness.PBXOptions{
		IP:    harness.IP(t, ip),
		Files: map[string]string{"pjsip.conf": pjsipConf(ip)},
	})
}

// users is a SIPp -inf CSV holding one user with its password.
func users(user string) string { return "SEQUENTIAL\n" + user + ";" + passwords[user] + "\n" }

// sipp runs a scenario from local against pbx and fails the test unless it
// succeeded.
func sipp(t *testing.T, pbx *harness.PBX, scenario, transport, local string, port int, csv string) harness.SIPpResult {
	t.Helper()
	return harness.RequireSIPp(t, harness.SIPpOptions{
		Scenario: scenario, Remote: pbx.Addr(), LocalIP: local, LocalPort: port,
		Transport: transport, Users: csv, Service: "1001", Timeout: 15 * time.Second,
	})
}

// contactLines returns the "Contact:" rows of `pjsip show contacts`,
// without the column header.
func contactLines(out string) []string {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "Contact:") && !strings.Contains(s, "<Aor/ContactUri") {
			rows = append(rows, s)
		}
	}
	return rows
}

// hasContact reports whether a contact row of aor holds a URI with user
// and hostport ("sip:USER@HOSTPORT", user "" for any user).
func hasContact(out, aor, user, hostport string) bool {
	for _, row := range contactLines(out) {
		f := strings.Fields(row)
		if len(f) < 2 || !strings.HasPrefix(f[1], aor+"/sip:") {
			continue
		}
		uri := strings.TrimPrefix(f[1], aor+"/sip:")
		u, hp, ok := strings.Cut(uri, "@")
		if !ok || (user != "" && u != user) {
			continue
		}
		if hp == hostport || strings.HasPrefix(hp, hostport+";") || strings.HasPrefix(hp, hostport+">") {
			return true
		}
	}
	return false
}

// contacts runs `pjsip show contacts` and checks that it printed the
// table header, so a missing contact is never a broken command.
func contacts(t *testing.T, pbx *harness.PBX) string {
	t.Helper()
	out := pbx.Console(t, "pjsip show contacts")
	if !strings.Contains(out, "<Aor/ContactUri") {
		t.Fatalf("pjsip show contacts: no table header in:\n%s", out)
	}
	return out
}
