package media

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/codec"
	"github.com/gopbx/gopbx/internal/dtmf"
)

// phone is a bare RTP peer on loopback.
type phone struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPhone(t *testing.T, ip string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &phone{t: t, conn: c}
}

func (p *phone) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *phone) sdp(enc string, pt int) []byte {
	c := "IN IP4 127.0.0.1"
	if a := p.conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr(); a.Is6() && !a.Is4In6() {
		c = "IN IP6 " + a.String() // an IPv6 phone says so
	}
	return []byte("v=0\r\no=- 1 1 " + c + "\r\ns=-\r\nc=" + c + "\r\nt=0 0\r\n" +
		"m=audio " + itoa(p.port()) + " RTP/AVP " + itoa(pt) + " 101\r\na=rtpmap:" + itoa(pt) + " " + enc + "/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

// send sends n 20 ms frames of a sine at freq Hz encoded with c to dst.
func (p *phone) send(dst netip.AddrPort, c codec.Codec, pt uint8, freq float64, n int) {
	enc, _ := c.NewEncoder()
	pcm := make([]int16, 160)
	var payload []byte
	for i := 0; i < n; i++ {
		for j := range pcm {
			k := i*160 + j
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*freq*float64(k)/8000))
		}
		payload, _ = enc.Encode(payload[:0], pcm)
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 42}, Payload: payload}
		b, _ := pkt.Marshal()
		p.conn.WriteToUDPAddrPort(b, dst)
		time.Sleep(2 * time.Millisecond)
	}
}

// recv collects packets for d and returns their payload types and payloads.
func (p *phone) recv(d time.Duration) (pts []uint8, payloads [][]byte) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1500)
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		var pkt pionrtp.Packet
		if pkt.Unmarshal(buf[:n]) == nil {
			pts = append(pts, pkt.PayloadType)
			payloads = append(payloads, append([]byte(nil), pkt.Payload...))
		}
	}
}

func newManager(t *testing.T) *Manager {
	m, err := NewManager(Config{Start: 30000, End: 30999}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func ulaw(t *testing.T) codec.Codec {
	c, ok := codec.Lookup("ulaw")
	if !ok {
		t.Fatal("no ulaw")
	}
	return c
}

// TestRelayTranscodes: caller speaks PCMU, callee only allows PCMA; what the
// callee receives is PCMA carrying the caller's tone.
func TestRelayTranscodes(t *testing.T) {
	m := newManager(t)
	ip := netip.MustParseAddr("127.0.0.1")
	a, err := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := m.NewStream(ip, Options{Allow: []string{"alaw"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p1, p2 := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.1")
	if _, err := a.AcceptOffer(p1.sdp("PCMU", 0)); err != nil {
		t.Fatal(err)
	}
	offer, err := b.Offer(a.Codec())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := ParseSDP(offer)
	if d.Formats[0].Encoding != "PCMA" {
		t.Fatalf("callee offer %s, want PCMA first (only alaw allowed)", encodings(d.Formats))
	}
	if err := b.AcceptAnswer(p2.sdp("PCMA", 8)); err != nil {
		t.Fatal(err)
	}
	a.Join(b)
	go p1.send(a.Session().Local(), ulaw(t), 0, 1000, 50)
	pts, payloads := p2.recv(500 * time.Millisecond)
	if len(pts) < 40 {
		t.Fatalf("callee got %d packets, want ~50", len(pts))
	}
	alaw, _ := codec.Lookup("alaw")
	dec, _ := alaw.NewDecoder()
	var pcm []int16
	for i, pt := range pts {
		if pt != 8 {
			t.Fatalf("packet %d has PT %d, want 8 (PCMA)", i, pt)
		}
		out, _ := dec.Decode(nil, payloads[i])
		pcm = append(pcm, out...)
	}
	if f := dominant(pcm); math.Abs(f-1000) > 50 {
		t.Errorf("dominant frequency %.0f Hz, want 1000", f)
	}
}

// TestRelaySameCodecAndLatch: same codec both ways is forwarded untouched,
// and a phone sending from another port than its SDP gets the return audio.
func TestRelaySameCodecAndLatch(t *testing.T) {
	m := newManager(t)
	ip := netip.MustParseAddr("127.0.0.1")
	a, _ := m.NewStream(ip, Options{Allow: []string{"ulaw", "alaw"}}, nil)
	b, _ := m.NewStream(ip, Options{Allow: []string{"ulaw", "alaw"}}, nil)
	defer a.Close()
	defer b.Close()
	p1, p2 := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.1")
	decoy := newPhone(t, "127.0.0.1") // the port p1's SDP claims
	a.AcceptOffer(decoy.sdp("PCMU", 0))
	offer, _ := b.Offer(a.Codec())
	if d, _ := ParseSDP(offer); d.Formats[0].Encoding != "PCMU" {
		t.Fatalf("callee offer should prefer the caller's codec: %s", offer)
	}
	b.AcceptAnswer(p2.sdp("PCMU", 0))
	a.Join(b)
	go p1.send(a.Session().Local(), ulaw(t), 0, 600, 10) // latches a onto p1
	if pts, _ := p2.recv(300 * time.Millisecond); len(pts) < 8 {
		t.Fatalf("callee got %d packets", len(pts))
	}
	go p2.send(b.Session().Local(), ulaw(t), 0, 1000, 20)
	pts, payloads := p1.recv(400 * time.Millisecond)
	if len(pts) < 15 {
		t.Fatalf("latched caller got %d packets, want ~20 (sent to the source, not the SDP port)", len(pts))
	}
	dec, _ := ulaw(t).NewDecoder()
	var pcm []int16
	for _, p := range payloads {
		out, _ := dec.Decode(nil, p)
		pcm = append(pcm, out...)
	}
	if f := dominant(pcm); math.Abs(f-1000) > 50 {
		t.Errorf("dominant frequency %.0f Hz, want 1000", f)
	}
	if _, n := decoy.recv(50 * time.Millisecond); len(n) > 0 {
		t.Errorf("%d packets went to the SDP port after latching", len(n))
	}
}

// TestDTMFToApp: an RFC 4733 event sent three times (end redundancy) is one
// digit for the application.
func TestDTMFToApp(t *testing.T) {
	m := newManager(t)
	a, _ := m.NewStream(netip.MustParseAddr("127.0.0.1"), Options{Allow: []string{"ulaw"}}, nil)
	defer a.Close()
	p := newPhone(t, "127.0.0.1")
	a.AcceptOffer(p.sdp("PCMU", 0))
	for i, payload := range [][]byte{{5, 10, 0, 160}, {5, 10, 1, 64}, {5, 0x8a, 3, 32}, {5, 0x8a, 3, 32}, {5, 0x8a, 3, 32}} {
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(i), Timestamp: 8000, SSRC: 1, Marker: i == 0}, Payload: payload}
		b, _ := pkt.Marshal()
		p.conn.WriteToUDPAddrPort(b, a.Session().Local())
	}
	select {
	case d := <-a.Digits():
		if d != '5' {
			t.Fatalf("digit %q, want 5", d)
		}
	case <-time.After(time.Second):
		t.Fatal("no digit")
	}
	select {
	case d := <-a.Digits():
		t.Fatalf("second digit %q from one event", d)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestNoCommonCodec is the 488 case.
func TestNoCommonCodec(t *testing.T) {
	m := newManager(t)
	a, _ := m.NewStream(netip.MustParseAddr("127.0.0.1"), Options{Allow: []string{"alaw"}}, nil)
	defer a.Close()
	p := newPhone(t, "127.0.0.1")
	if _, err := a.AcceptOffer(p.sdp("PCMU", 0)); err == nil {
		t.Fatal("PCMU-only offer accepted by an alaw-only endpoint")
	}
}

// dominant finds the strongest frequency 100–3900 Hz in 10 Hz steps.
func dominant(pcm []int16) float64 {
	best, bestF := 0.0, 0.0
	for f := 100.0; f < 3900; f += 10 {
		var re, im float64
		for i, s := range pcm {
			ph := 2 * math.Pi * f * float64(i) / 8000
			re += float64(s) * math.Cos(ph)
			im += float64(s) * math.Sin(ph)
		}
		if p := re*re + im*im; p > best {
			best, bestF = p, f
		}
	}
	return bestF
}

// TestSRTP: a phone offering RTP/SAVP with SDES keys and gopbx's leg
// exchange audio both ways; a plain offer is refused by an sdes endpoint.
func TestSRTP(t *testing.T) {
	m := newManager(t)
	ip := netip.MustParseAddr("127.0.0.1")
	opts := Options{Allow: []string{"ulaw"}, SRTP: true}
	phone, _ := m.NewStream(ip, opts, nil)
	leg, _ := m.NewStream(ip, opts, nil)
	defer phone.Close()
	defer leg.Close()
	offer, err := phone.Offer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(offer), "RTP/SAVP") || !strings.Contains(string(offer), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Fatalf("offer lacks SDES:\n%s", offer)
	}
	answer, err := leg.AcceptOffer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.AcceptAnswer(answer); err != nil {
		t.Fatal(err)
	}
	tone := func(s *Stream, hz float64) {
		pcm := make([]int16, 160)
		for i := 0; i < 25; i++ {
			for j := range pcm {
				pcm[j] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i*160+j)/8000))
			}
			s.Write(pcm)
			time.Sleep(2 * time.Millisecond)
		}
	}
	got := func(s *Stream) []int16 {
		var all []int16
		deadline := time.After(500 * time.Millisecond)
		for {
			select {
			case f := <-s.Audio():
				all = append(all, f...)
			case <-deadline:
				return all
			}
		}
	}
	go tone(phone, 1000)
	if pcm := got(leg); len(pcm) < 160*10 || math.Abs(dominant(pcm)-1000) > 50 {
		t.Fatalf("leg decrypted %d samples at %.0f Hz, want ~1000 Hz", len(pcm), dominant(pcm))
	}
	go tone(leg, 600)
	if pcm := got(phone); len(pcm) < 160*10 || math.Abs(dominant(pcm)-600) > 50 {
		t.Fatalf("phone decrypted %d samples at %.0f Hz, want ~600 Hz", len(pcm), dominant(pcm))
	}
	if leg.Session().Dropped.Load() != 0 {
		t.Errorf("%d packets failed authentication", leg.Session().Dropped.Load())
	}
	plain, _ := m.NewStream(ip, opts, nil)
	defer plain.Close()
	p := newPhone(t, "127.0.0.1")
	if _, err := plain.AcceptOffer(p.sdp("PCMU", 0)); err == nil {
		t.Error("an sdes endpoint accepted a plain RTP/AVP offer")
	}
}

// TestRTPTimeout: a stream that never receives RTP fires its timeout
// action once; one that does is left alone.
func TestRTPTimeout(t *testing.T) {
	m, err := NewManager(Config{Start: 32000, End: 32099, Timeout: time.Second}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	ip := netip.MustParseAddr("127.0.0.1")
	fired := make(chan string, 4)
	dead, _ := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, func() { fired <- "dead" })
	live, _ := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, func() { fired <- "live" })
	defer dead.Close()
	defer live.Close()
	p := newPhone(t, "127.0.0.1")
	dead.AcceptOffer(p.sdp("PCMU", 0))
	live.AcceptOffer(p.sdp("PCMU", 0))
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				p.send(live.Session().Local(), ulaw(t), 0, 1000, 10)
			}
		}
	}()
	defer close(stop)
	select {
	case who := <-fired:
		if who != "dead" {
			t.Fatalf("timeout fired for the %s stream", who)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("no RTP timeout after 4 s with rtptimeout=1s")
	}
	select {
	case who := <-fired:
		t.Fatalf("second timeout (%s)", who)
	case <-time.After(1500 * time.Millisecond):
	}
}

// TestInbandToRFC4733: a leg in dtmfmode=inband bridged to an RFC 4733
// leg: DTMF tones in its audio become telephone-events on the other side.
func TestInbandToRFC4733(t *testing.T) {
	m := newManager(t)
	ip := netip.MustParseAddr("127.0.0.1")
	a, _ := m.NewStream(ip, Options{Allow: []string{"ulaw"}, DTMFMode: "inband"}, nil)
	b, _ := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, nil)
	defer a.Close()
	defer b.Close()
	p1, p2 := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.1")
	a.AcceptOffer(p1.sdp("PCMU", 0))
	b.Offer(a.Codec())
	b.AcceptAnswer(p2.sdp("PCMU", 0))
	a.Join(b)
	gen, err := dtmf.NewGenerator("7", 120*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := ulaw(t).NewEncoder()
	go func() {
		for i := 0; i < 15; i++ {
			pcm := gen.Read(make([]int16, 0, 160))
			if len(pcm) < 160 {
				pcm = append(pcm, make([]int16, 160-len(pcm))...)
			}
			payload, _ := enc.Encode(nil, pcm)
			pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 9}, Payload: payload}
			raw, _ := pkt.Marshal()
			p1.conn.WriteToUDPAddrPort(raw, a.Session().Local())
			time.Sleep(20 * time.Millisecond)
		}
	}()
	pts, payloads := p2.recv(800 * time.Millisecond)
	var events []byte
	for i, pt := range pts {
		if pt == EventPT {
			events = append(events, payloads[i][0])
		}
	}
	if len(events) == 0 || events[0] != 7 {
		t.Fatalf("the RFC 4733 side got events %v, want event 7 (digit 7)", events)
	}
}

// TestSDPBuild pins the text of our session descriptions, line by line.
func TestSDPBuild(t *testing.T) {
	sb := sdpBuilder{id: 42}
	formats := []Format{
		{PT: 0, Encoding: "PCMU", Clock: 8000},
		{PT: 111, Encoding: "opus", Clock: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
		{PT: 101, Encoding: "telephone-event", Clock: 8000, Fmtp: "0-16"},
	}
	got := string(sb.build(netip.MustParseAddr("192.0.2.1"), 10000, "RTP/SAVP", formats, SendRecv, "1 AES_CM_128_HMAC_SHA1_80 inline:KEY", "rtcp-mux"))
	want := "v=0\r\no=gopbx 42 1 IN IP4 192.0.2.1\r\ns=gopbx\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/SAVP 0 111 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY\r\na=rtcp-mux\r\n" +
		"a=ptime:20\r\na=maxptime:150\r\na=sendrecv\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	got = string(sb.build(netip.MustParseAddr("2001:db8::1"), 20000, "RTP/AVP", formats[:1], SendOnly, ""))
	want = "v=0\r\no=gopbx 42 2 IN IP6 2001:db8::1\r\ns=gopbx\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n" +
		"m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=maxptime:150\r\na=sendonly\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
