package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSIPAndSDP(t *testing.T) {
	body := sdpBody("callee", netip.MustParseAddrPort("127.0.0.161:10002"), 8)
	raw := "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 127.0.0.162:5070;branch=z9hG4bK-1;rport=5070\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2\r\n" +
		"From: <sip:c1@127.0.0.162>;tag=f1\r\nTo: \"x\" <sip:100@127.0.0.161:5060>;tag=abc\r\ni: id-1@h\r\nCSeq: 1 INVITE\r\n" +
		"m: <sip:gopbx@127.0.0.161:5060;transport=udp>\r\nContent-Length: 9\r\n\r\n" + body
	m, err := parseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.status() != 200 || m.cseqMethod() != "INVITE" || m.hdr["call-id"] != "id-1@h" || len(m.vias) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	if tag := headerTag(m.hdr["to"]); tag != "abc" {
		t.Fatalf("to tag %q", tag)
	}
	if u := headerURI(m.hdr["contact"]); u != "sip:gopbx@127.0.0.161:5060;transport=udp" {
		t.Fatalf("contact %q", u)
	}
	if b := viaBranch(m.vias); b != "z9hG4bK-1" {
		t.Fatalf("branch %q", b)
	}
	ap, pt, err := sdpMedia(m.body)
	if err != nil || ap.String() != "127.0.0.161:10002" || pt != 8 {
		t.Fatalf("sdp %v %d %v", ap, pt, err)
	}
	if _, _, err := sdpMedia([]byte("v=0\r\n")); err == nil {
		t.Fatal("SDP without media accepted")
	}
	if tk := token("a@b c;d"); strings.ContainsAny(tk, "@ ;") {
		t.Fatalf("token %q", tk)
	}
}

func TestRangeCapacity(t *testing.T) {
	// 4 ports a call: RTP and RTCP for each of the two legs.
	if n := rangeCapacity(1024, 65535); n != 16128 {
		t.Fatalf("1024-65535 holds %d calls", n)
	}
	if n := rangeCapacity(10001, 20000); n != 2499 {
		t.Fatalf("10001-20000 holds %d calls", n)
	}
}

func TestMergeResults(t *testing.T) {
	old := &results{Date: "old", Workloads: []*workloadResult{
		{Name: "register", Servers: []*serverResult{{Server: "gopbx", Steps: []*runResult{{Target: 1, Clean: true}, {Target: 2}}}}},
		{Name: "held-calls"},
	}}
	path := filepath.Join(t.TempDir(), "latest.json")
	js, _ := json.Marshal(old)
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	now := &results{Date: "now", Addresses: map[string]string{"media": "x"}, Workloads: []*workloadResult{{Name: "held-calls", Kind: kindHeld}, {Name: "rtp-relay", Kind: kindRTP}}}
	m, err := mergeResults(path, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Date != "old" || len(m.Workloads) != 3 || m.Workloads[1].Kind != kindHeld || m.Workloads[2].Name != "rtp-relay" {
		t.Fatalf("merged %+v", m.Workloads)
	}
	if k := m.Workloads[0].Servers[0].Knee; k == nil || k.Target != 2 {
		t.Fatalf("knee not restored: %+v", k)
	}
	if m.Addresses["media"] != "x" || len(m.Merged) != 1 || !strings.Contains(m.Merged[0], "held-calls, rtp-relay") {
		t.Fatalf("merge notes %v %v", m.Addresses, m.Merged)
	}
	// Merging the same loads again replaces the note; others stay.
	js, _ = json.Marshal(m)
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	m2, err := mergeResults(path, &results{Date: "later", Workloads: []*workloadResult{{Name: "held-calls"}, {Name: "rtp-relay"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Merged) != 1 || !strings.Contains(m2.Merged[0], "later") {
		t.Fatalf("stale note kept: %v", m2.Merged)
	}
	m3, _ := mergeResults(path, &results{Date: "third", Workloads: []*workloadResult{{Name: "held-calls"}}})
	if len(m3.Merged) != 2 {
		t.Fatalf("note of rtp-relay lost: %v", m3.Merged)
	}
}

func TestHeldDirectConf(t *testing.T) {
	var anchored, direct workload
	for _, w := range workloads {
		switch w.Name {
		case "held-calls":
			anchored = w
		case "held-calls-direct":
			direct = w
		}
	}
	if anchored.Kind != kindHeld || direct.Kind != kindHeld || !direct.DirectMedia || anchored.DirectMedia {
		t.Fatalf("held workloads %+v %+v", anchored, direct)
	}
	if anchored.mediaPorts() != portsPerCall || direct.mediaPorts() != 0 {
		t.Fatalf("ports per call %d %d", anchored.mediaPorts(), direct.mediaPorts())
	}
	// Both endpoints (caller and callee) must allow direct media, or gopbx
	// anchors the call.
	for w, want := range map[*workload]string{&anchored: "direct_media=no", &direct: "direct_media=yes"} {
		conf := mediaConf(*w, 1024, 65535)["pjsip.conf"]
		if n := strings.Count(conf, want); n != 2 || strings.Count(conf, "direct_media=") != 2 {
			t.Fatalf("%s: %d x %s in\n%s", w.Name, n, want, conf)
		}
	}
}
