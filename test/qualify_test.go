package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/test/harness"
)

// Qualify: gopbx pings each contact with OPTIONS and shows Avail with an
// RTT for one that answers (a SIPp UAS) and Unavail for one that does not.
func TestQualify(t *testing.T) {
	t.Parallel()
	ip := harness.IP(t, "127.0.64.1")
	phone := harness.IP(t, "127.0.64.2")
	conf := fmt.Sprintf(`[transport-udp]
type=transport
protocol=udp
bind=%s:5060

[5000]
type=endpoint
context=default
aors=5000
rewrite_contact=no
force_rport=no
[5000]
type=aor
max_contacts=2
qualify_frequency=1
qualify_timeout=1.0
`, ip)
	pbx := harness.StartPBX(t, harness.PBXOptions{IP: ip, Files: map[string]string{"pjsip.conf": conf}})

	uas := harness.StartSIPp(t, harness.SIPpOptions{Scenario: "uas_options", LocalIP: phone, Transport: "u1",
		Calls: 100, Timeout: 30 * time.Second})
	dead := harness.HostPort(phone, harness.FreePort(t, phone))

	// Register both contacts (5000 has no auth= so no challenge).
	c := siptest.DialUDP(t, phone+":0", pbx.Addr())
	msg := fmt.Sprintf("REGISTER sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK%[4]s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:5000@%[1]s>;tag=q1\r\nTo: <sip:5000@%[1]s>\r\nCall-ID: q-%[4]s\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:5000@%[2]s>\r\nContact: <sip:5000@%[3]s>\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n",
		pbx.Addr(), uas.Addr(), dead, siptest.Unique())
	if res := c.Exchange(msg); siptest.Status(res) != "SIP/2.0 200 OK" {
		t.Fatalf("REGISTER: %s", res)
	}

	row := func(out, hostport string) string {
		for _, r := range contactLines(out) {
			if strings.Contains(r, "5000/sip:5000@"+hostport) {
				return r
			}
		}
		return ""
	}
	out := pbx.WaitConsole(t, "pjsip show contacts", 8*time.Second, func(out string) bool {
		return strings.Contains(row(out, uas.Addr()), " Avail ") && strings.Contains(row(out, dead), " Unavail ")
	})
	f := strings.Fields(row(out, uas.Addr()))
	if len(f) < 5 || f[4] == "nan" {
		t.Fatalf("Avail contact without RTT: %q", row(out, uas.Addr()))
	}
	if res := uas.Stop(); res.Successful == 0 {
		t.Fatalf("the SIPp UAS answered no OPTIONS: %+v", res)
	}
}
