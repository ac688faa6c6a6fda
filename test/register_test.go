package test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

var transports = []struct{ name, sipp string }{{"udp", "u1"}, {"tcp", "t1"}}

// REGISTER with digest auth over UDP and TCP: the 200 lists the binding
// with expires (checked by the scenario) and the console shows it.
func TestRegisterAuth(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.21.1")
	local := harness.IP(t, "127.0.21.2")
	for i, tr := range transports {
		user := []string{"1000", "1001"}[i]
		t.Run(tr.name, func(t *testing.T) {
			port := harness.FreePort(t, local)
			sipp(t, pbx, "register_auth", tr.sipp, local, port, users(user))
			out := contacts(t, pbx)
			if !hasContact(out, user, user, harness.HostPort(local, port)) {
				t.Fatalf("pjsip show contacts lacks %s/sip:%s@%s:%d:\n%s", user, user, local, port, out)
			}
		})
	}
}

// A wrong password is refused (401 or 403 after the auth attempt) and
// registers nothing.
func TestRegisterWrongPassword(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.22.1")
	local := harness.IP(t, "127.0.22.2")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			sipp(t, pbx, "register_wrong_password", tr.sipp, local, 0, "SEQUENTIAL\n1000;not-"+passwords["1000"]+"\n")
			if rows := contactLines(contacts(t, pbx)); len(rows) != 0 {
				t.Fatalf("a refused REGISTER left contacts: %q", rows)
			}
		})
	}
	// An unknown user must not register either.
	sipp(t, pbx, "register_wrong_password", "u1", local, 0, "SEQUENTIAL\n9999;whatever\n")
	if rows := contactLines(contacts(t, pbx)); len(rows) != 0 {
		t.Fatalf("an unknown user left contacts: %q", rows)
	}
}

// Expires: 0 removes the binding: it is gone from the 200 (scenario) and
// from the console.
func TestUnregister(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.23.1")
	local := harness.IP(t, "127.0.23.2")
	for i, tr := range transports {
		user := []string{"1000", "1001"}[i]
		t.Run(tr.name, func(t *testing.T) {
			port := harness.FreePort(t, local)
			hp := harness.HostPort(local, port)
			sipp(t, pbx, "register_auth", tr.sipp, local, port, users(user))
			if out := contacts(t, pbx); !hasContact(out, user, user, hp) {
				t.Fatalf("not registered before the unregister test:\n%s", out)
			}
			sipp(t, pbx, "unregister", tr.sipp, local, port, users(user))
			if out := contacts(t, pbx); hasContact(out, user, user, hp) {
				t.Fatalf("contact %s still listed after Expires: 0:\n%s", hp, out)
			}
		})
	}
}

// Contact: * with Expires: 0 removes every binding of the AOR.
func TestRegisterStar(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.24.1")
	local := harness.IP(t, "127.0.24.2")
	var hps []string
	for i := 0; i < 2; i++ {
		port := harness.FreePort(t, local)
		sipp(t, pbx, "register_auth", "u1", local, port, users("1000"))
		hps = append(hps, harness.HostPort(local, port))
	}
	out := contacts(t, pbx)
	for _, hp := range hps {
		if !hasContact(out, "1000", "1000", hp) {
			t.Fatalf("binding %s missing before Contact: *:\n%s", hp, out)
		}
	}
	// Another user's binding must survive the wildcard.
	other := harness.FreePort(t, local)
	sipp(t, pbx, "register_auth", "u1", local, other, users("1001"))

	port := harness.FreePort(t, local)
	sipp(t, pbx, "register_star", "u1", local, port, users("1000"))
	out = contacts(t, pbx)
	for _, hp := range append(hps, harness.HostPort(local, port)) {
		if hasContact(out, "1000", "1000", hp) {
			t.Errorf("binding %s survived Contact: *:\n%s", hp, out)
		}
	}
	if !hasContact(out, "1001", "1001", harness.HostPort(local, other)) {
		t.Errorf("Contact: * for 1000 removed 1001's binding:\n%s", out)
	}
}

// Two Contact headers in one REGISTER make two bindings.
func TestRegisterMultiContact(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.25.1")
	local := harness.IP(t, "127.0.25.2")
	port := harness.FreePort(t, local)
	sipp(t, pbx, "register_multi_contact", "u1", local, port, users("1000"))
	out := contacts(t, pbx)
	hp := harness.HostPort(local, port)
	for _, u := range []string{"mc1-1000", "mc2-1000"} {
		if !hasContact(out, "1000", u, hp) {
			t.Errorf("pjsip show contacts lacks 1000/sip:%s@%s:\n%s", u, hp, out)
		}
	}
}

// max_contacts=1 with remove_existing=yes: a new binding replaces the old.
func TestRegisterRemoveExisting(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.26.1")
	local := harness.IP(t, "127.0.26.2")
	first, second := harness.FreePort(t, local), harness.FreePort(t, local)
	sipp(t, pbx, "register_auth", "u1", local, first, users("1002"))
	if out := contacts(t, pbx); !hasContact(out, "1002", "1002", harness.HostPort(local, first)) {
		t.Fatalf("first binding missing:\n%s", out)
	}
	r := sipp(t, pbx, "register_auth", "u1", local, second, users("1002"))
	out := contacts(t, pbx)
	if !hasContact(out, "1002", "1002", harness.HostPort(local, second)) {
		t.Errorf("second binding missing:\n%s", out)
	}
	if hasContact(out, "1002", "1002", harness.HostPort(local, first)) {
		t.Errorf("first binding kept despite max_contacts=1 remove_existing=yes:\n%s", out)
	}
	// The 200 to the second REGISTER lists only the new binding.
	last := r.Messages[strings.LastIndex(r.Messages, "SIP/2.0 200"):]
	if strings.Contains(last, harness.HostPort(local, first)) {
		t.Errorf("200 still lists the replaced binding:\n%s", last)
	}
}

// An expiry under the minimum gets 423 with Min-Expires and no binding.
func TestRegisterShortExpiry(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.27.1")
	local := harness.IP(t, "127.0.27.2")
	sipp(t, pbx, "register_short_expiry", "u1", local, 0, users("1000"))
	if rows := contactLines(contacts(t, pbx)); len(rows) != 0 {
		t.Fatalf("423 but contacts listed: %q", rows)
	}
}

// sip.conf: a type=friend host=dynamic peer registers over UDP and TCP and
// shows in `sip show peers` with the address it registered from.
func TestRegisterSIPConf(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "sipp")
	ip := harness.IP(t, "127.0.28.1")
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: map[string]string{"sip.conf": `[general]
context=default
bindaddr=` + ip + `
bindport=5060
tcpenable=yes
tcpbindaddr=` + ip + `:5060
minexpiry=60

[1000]
type=friend
host=dynamic
secret=` + passwords["1000"] + `
context=default

[1001]
type=friend
host=dynamic
secret=` + passwords["1001"] + `
context=default
`}})
	local := harness.IP(t, "127.0.28.2")
	for i, tr := range transports {
		user := []string{"1000", "1001"}[i]
		t.Run(tr.name, func(t *testing.T) {
			port := harness.FreePort(t, local)
			sipp(t, pbx, "register_auth", tr.sipp, local, port, users(user))
			out := pbx.Console(t, "sip show peers")
			row := ""
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) > 0 && (f[0] == user || strings.HasPrefix(f[0], user+"/")) {
					row = line
				}
			}
			if !slices.Contains(strings.Fields(row), local) {
				t.Fatalf("sip show peers: no row for %s with host %s:\n%s", user, local, out)
			}
			if tr.name == "udp" && !slices.Contains(strings.Fields(row), strconv.Itoa(port)) {
				t.Errorf("sip show peers: %s registered from port %d, row: %q", user, port, row)
			}
		})
	}
	// A wrong secret is refused and does not replace the binding.
	sipp(t, pbx, "register_wrong_password", "u1", local, 0, "SEQUENTIAL\n1000;wrong\n")
}

// Registrations survive a graceful restart, as Asterisk keeps them in its
// astdb: gopbx stores them under DATADIR.
func TestRegisterSurvivesRestart(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.29.1")
	local := harness.IP(t, "127.0.29.2")
	port := harness.FreePort(t, local)
	sipp(t, pbx, "register_auth", "u1", local, port, users("1000"))
	pbx.Restart(t)
	pbx.WaitConsole(t, "pjsip show contacts", 3*time.Second, func(out string) bool {
		return hasContact(out, "1000", "1000", harness.HostPort(local, port))
	})
}
