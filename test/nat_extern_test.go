package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// TestNATExternIP: gopbx itself runs on a private network behind a
// masquerading router that forwards 5060 and the RTP range to it. With
// sip.conf externip/localnet it tells the phone outside the router's
// public address in Contact, Via and SDP, so the phone's audio reaches it
// through the forward and comes back (Echo).
func TestNATExternIP(t *testing.T) {
	t.Parallel()
	harness.RequireNetns(t)
	harness.RequireTool(t, "baresip")
	harness.RequireTool(t, "sox")
	n := harness.NewNATNetwork(t)
	n.Forward(t, "5060")
	n.Forward(t, "10000:10099")
	sipConf := fmt.Sprintf(`[general]
context=default
bindaddr=%s
bindport=5060
externip=%s
localnet=198.18.10.0/255.255.255.0

[3100]
type=friend
host=dynamic
secret=pw-3100
context=default
nat=force_rport,comedia
disallow=all
allow=ulaw
`, n.PhoneIP, n.RouterPublicIP)
	pbx := harness.StartPBXInNetns(t, n.Phone, harness.PBXOptions{IP: n.PhoneIP, Files: map[string]string{
		"sip.conf":        sipConf,
		"rtp.conf":        "[general]\nrtpstart=10000\nrtpend=10099\n",
		"extensions.conf": "[default]\nexten => 600,1,Answer()\n same => n,Echo()\n same => n,Hangup()\n",
	}})
	pbx.Console(t, "sip set debug on")
	public := harness.HostPort(n.RouterPublicIP, 5060)
	phone := harness.StartBaresipInNetns(t, n.PBX, harness.BaresipOptions{
		Name: "outside-3100", IP: n.PBXIP, SIPPort: 5090, CtrlPort: 4452, RTPPorts: "24000-24099",
		User: "3100", Password: "pw-3100", Domain: public, RegInt: 60, Lifetime: 45 * time.Second,
		ToneHz: 1000, Record: true, Codecs: "PCMU",
	})
	if err := phone.WaitRegistered(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := phone.Dial("sip:600@" + public); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	phone.Hangup()
	if _, err := phone.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log := pbx.Log()
	if !strings.Contains(log, "c=IN IP4 "+n.RouterPublicIP) {
		t.Errorf("gopbx's SDP never carried the external address %s", n.RouterPublicIP)
	}
	if strings.Contains(log, "c=IN IP4 "+n.PhoneIP) {
		t.Errorf("gopbx sent its private address %s in SDP to a phone outside localnet", n.PhoneIP)
	}
	if !strings.Contains(log, "Contact: <sip:gopbx@"+n.RouterPublicIP) {
		t.Errorf("gopbx's Contact does not carry the external address %s", n.RouterPublicIP)
	}
	checkTone(t, "phone outside the NAT (echo)", received(t, phone), 1000, 2)
}
