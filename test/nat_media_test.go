package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// TestNATCallAudio: a baresip phone behind a MASQUERADE NAT (private
// address in its Contact and SDP, remapped ports) receives a call from a
// phone on gopbx's side, and audio flows both ways: gopbx reaches the phone
// through the REGISTER's source (rewrite_contact) and sends RTP where the
// phone's packets really come from (latching, rtp_symmetric).
func TestNATCallAudio(t *testing.T) {
	t.Parallel()
	harness.RequireNetns(t)
	harness.RequireTool(t, "baresip")
	harness.RequireTool(t, "sox")
	n := harness.NewNATNetwork(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "[transport-udp]\ntype=transport\nprotocol=udp\nbind=%s:5060\n", n.PBXIP)
	for _, u := range []string{"3000", "3100"} {
		fmt.Fprintf(&conf, `
[%[1]s]
type=endpoint
context=default
disallow=all
allow=ulaw
auth=%[1]s
aors=%[1]s
rewrite_contact=yes
force_rport=yes
rtp_symmetric=yes
[%[1]s]
type=auth
auth_type=userpass
username=%[1]s
password=pw-%[1]s
[%[1]s]
type=aor
max_contacts=1
remove_existing=yes
`, u)
	}
	pbx := harness.StartPBXInNetns(t, n.PBX, harness.PBXOptions{IP: n.PBXIP, Files: map[string]string{
		"pjsip.conf":      conf.String(),
		"extensions.conf": "[default]\nexten => _3X00,1,Dial(PJSIP/${EXTEN},20)\n same => n,Hangup()\n",
	}})
	natted := harness.StartBaresipInNetns(t, n.Phone, harness.BaresipOptions{
		Name: "natted-3000", IP: n.PhoneIP, SIPPort: 5070, CtrlPort: 4450, RTPPorts: "22000-22099",
		User: "3000", Password: "pw-3000", Domain: pbx.Addr(), RegInt: 60, Lifetime: 45 * time.Second,
		ToneHz: 1000, Record: true, Codecs: "PCMU",
	})
	public := harness.StartBaresipInNetns(t, n.PBX, harness.BaresipOptions{
		Name: "public-3100", IP: n.PBXIP, SIPPort: 5080, CtrlPort: 4451, RTPPorts: "23000-23099",
		User: "3100", Password: "pw-3100", Domain: pbx.Addr(), RegInt: 60, Lifetime: 45 * time.Second,
		ToneHz: 600, Record: true, Codecs: "PCMU",
	})
	for _, ua := range []*harness.Baresip{natted, public} {
		if err := ua.WaitRegistered(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := public.Dial("sip:3000@" + pbx.Addr()); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*harness.Baresip{public, natted} {
		if _, err := ua.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
			t.Fatalf("the call to the phone behind NAT was not established: %v", err)
		}
	}
	time.Sleep(3 * time.Second)
	public.Hangup()
	for _, ua := range []*harness.Baresip{public, natted} {
		if _, err := ua.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	checkTone(t, "phone behind NAT", received(t, natted), 600, 2)
	checkTone(t, "public phone", received(t, public), 1000, 2)
}
