package test

import (
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// `gopbx dialplan test CONTEXT EXTEN` runs offline (no daemon, no sockets)
// and prints the priorities a call would run with variables substituted:
// seed 001's inter-server route rewrites 90123 to 91123 on 22TRUNK.
func TestDialplanTestCommand(t *testing.T) {
	t.Parallel()
	bin := harness.Binary(t)
	dir := t.TempDir()
	writeFile(t, dir+"/extensions.conf", `[FROMSIP]
exten => _90.,1,Dial(SIP/91${EXTEN:2}@22TRUNK,40,m(default))
exten => _91.,1,Dial(SIP/${EXTEN:2},40,m(default))
exten => _0XXXXXXXXX,1,Dial(SIP/${EXTEN}@gw)
 same => n,Playtones(congestion)
 same => n,Hangup()
`)
	out, err := runCmd(t, 10*time.Second, bin, "-C", dir, "-data", t.TempDir(), "dialplan", "test", "FROMSIP", "90123")
	if err != nil {
		t.Fatalf("dialplan test: %v\n%s", err, out)
	}
	if !strings.Contains(out, "SIP/91123@22TRUNK") {
		t.Fatalf("_90. did not rewrite to 91123@22TRUNK:\n%s", out)
	}
	out, err = runCmd(t, 10*time.Second, bin, "-C", dir, "-data", t.TempDir(), "dialplan", "test", "FROMSIP", "0212345678")
	if err != nil || !strings.Contains(out, "SIP/0212345678@gw") || !strings.Contains(out, "Hangup") {
		t.Fatalf("_0XXXXXXXXX route: %v\n%s", err, out)
	}
	// No match: the command says so and fails.
	out, err = runCmd(t, 10*time.Second, bin, "-C", dir, "-data", t.TempDir(), "dialplan", "test", "FROMSIP", "12")
	if err == nil || !strings.Contains(strings.ToLower(out), "404") {
		t.Fatalf("unmatched extension: err %v\n%s", err, out)
	}
}
