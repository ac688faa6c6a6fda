package test

import (
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Two baresip phones register, one over UDP and one over TCP; the console
// lists both contacts. When one quits it unregisters and its contact goes.
func TestBaresipRegister(t *testing.T) {
	t.Parallel()
	harness.RequireTool(t, "baresip")
	pbx := startPJSIP(t, "127.0.41.1")
	alice := harness.StartBaresip(t, harness.BaresipOptions{Name: "alice", IP: harness.IP(t, "127.0.41.2"),
		User: "1000", Password: passwords["1000"], Domain: pbx.Addr(), Transport: "udp"})
	bob := harness.StartBaresip(t, harness.BaresipOptions{Name: "bob", IP: harness.IP(t, "127.0.41.3"),
		User: "1001", Password: passwords["1001"], Domain: pbx.Addr(), Transport: "tcp"})
	for _, ua := range []*harness.Baresip{alice, bob} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// baresip's Contact user is "USER-0x...", so match any user part.
	out := contacts(t, pbx)
	if !hasContact(out, "1000", "", alice.Addr()) {
		t.Errorf("no contact of 1000 at %s (UDP):\n%s", alice.Addr(), out)
	}
	if !hasContact(out, "1001", "", bob.Addr()) {
		t.Errorf("no contact of 1001 at %s (TCP):\n%s", bob.Addr(), out)
	}
	for _, row := range contactLines(out) {
		if strings.Contains(row, bob.Addr()) && !strings.Contains(strings.ToLower(row), "transport=tcp") {
			t.Errorf("TCP contact lost its transport parameter: %q", row)
		}
	}

	alice.Stop() // quits, which sends REGISTER Expires: 0
	pbx.WaitConsole(t, "pjsip show contacts", 5*time.Second, func(out string) bool {
		return !hasContact(out, "1000", "", alice.Addr()) && hasContact(out, "1001", "", bob.Addr())
	})
}
