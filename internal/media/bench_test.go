package media

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/codec"
)

// The per-packet cost of the media relay (bench/README.md, issue 7 load
// 1.3): a packet through two joined Streams on loopback end to end, the
// relay step alone (onPacket, which ends in the sendto to the other leg),
// the same with transcoding, a bare sendto for comparison, and the G.711
// transcoding of one frame without I/O.

// benchIP keeps the benchmarks off the addresses the tests use.
const benchIP = "127.0.0.165"

// benchPair is two joined streams between two phones: p1 -> a -> b -> p2.
type benchPair struct {
	a, b   *Stream
	p1, p2 *net.UDPConn
	pkt    []byte // an RTP packet p1 sends, 160 bytes of payload
}

func newBenchPair(b *testing.B, callerAllow, calleeAllow string) *benchPair {
	b.Helper()
	m, err := NewManager(Config{Start: 31000, End: 31999}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ip := netip.MustParseAddr(benchIP)
	bp := &benchPair{}
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(benchIP)})
		if err != nil {
			b.Fatal(err)
		}
		_ = c.SetReadBuffer(4 << 20)
		b.Cleanup(func() { c.Close() })
		return c
	}
	bp.p1, bp.p2 = listen(), listen()
	sdp := func(c *net.UDPConn, enc string, pt int) []byte {
		port := strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
		return []byte("v=0\r\no=- 1 1 IN IP4 " + benchIP + "\r\ns=-\r\nc=IN IP4 " + benchIP + "\r\nt=0 0\r\n" +
			"m=audio " + port + " RTP/AVP " + strconv.Itoa(pt) + "\r\na=rtpmap:" + strconv.Itoa(pt) + " " + enc + "/8000\r\na=sendrecv\r\n")
	}
	if bp.a, err = m.NewStream(ip, Options{Allow: []string{callerAllow}}, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bp.a.Close() })
	if bp.b, err = m.NewStream(ip, Options{Allow: []string{calleeAllow}}, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bp.b.Close() })
	enc1, pt1 := "PCMU", 0
	if callerAllow == "alaw" {
		enc1, pt1 = "PCMA", 8
	}
	enc2, pt2 := "PCMU", 0
	if calleeAllow == "alaw" {
		enc2, pt2 = "PCMA", 8
	}
	if _, err := bp.a.AcceptOffer(sdp(bp.p1, enc1, pt1)); err != nil {
		b.Fatal(err)
	}
	if _, err := bp.b.Offer(bp.a.Codec()); err != nil {
		b.Fatal(err)
	}
	if err := bp.b.AcceptAnswer(sdp(bp.p2, enc2, pt2)); err != nil {
		b.Fatal(err)
	}
	bp.a.Join(bp.b)
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(0x55 + i)
	}
	p := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: uint8(pt1), SequenceNumber: 1, Timestamp: 160, SSRC: 7}, Payload: payload}
	if bp.pkt, err = p.Marshal(); err != nil {
		b.Fatal(err)
	}
	return bp
}

// drain reads p2 until the benchmark ends, so that its buffer never fills
// (a full buffer makes sendto drop instead of deliver, and look cheaper).
func drain(b *testing.B, c *net.UDPConn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() { c.Close(); <-done })
}

// BenchmarkRelayLoopback: one packet p1 -> a -> (relay) -> b -> p2 and
// waiting for it, one at a time: the latency of the relay path, with its
// reader goroutine parked between packets as it is at 50 packets/s.
func BenchmarkRelayLoopback(b *testing.B) {
	bp := newBenchPair(b, "ulaw", "ulaw")
	dst := bp.a.Session().Local()
	buf := make([]byte, 1500)
	b.SetBytes(int64(len(bp.pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bp.p1.WriteToUDPAddrPort(bp.pkt, dst); err != nil {
			b.Fatal(err)
		}
		_ = bp.p2.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := bp.p2.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// benchOnPacket calls the relay step directly, as the reader goroutine
// does after a read: what gopbx spends per packet besides the receive.
func benchOnPacket(b *testing.B, callerAllow, calleeAllow string) {
	bp := newBenchPair(b, callerAllow, calleeAllow)
	drain(b, bp.p2)
	// b sends to p2, its SDP address; a's reader is not used: the packet
	// is handed to onPacket as the reader would.
	var p pionrtp.Packet
	raw := make([]byte, len(bp.pkt))
	b.SetBytes(int64(len(bp.pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		copy(raw, bp.pkt) // the relay rewrites the payload type in place
		if err := p.Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
		bp.a.onPacket(&p, raw)
	}
}

// BenchmarkRelayOnPacket: same codec both legs, the packet is forwarded
// as is (one sendto).
func BenchmarkRelayOnPacket(b *testing.B) { benchOnPacket(b, "ulaw", "ulaw") }

// BenchmarkTranscodeOnPacket: ulaw in, alaw out (decode, encode, sendto).
func BenchmarkTranscodeOnPacket(b *testing.B) { benchOnPacket(b, "ulaw", "alaw") }

// BenchmarkSendtoLoopback is the bare syscall the relay ends in: one
// 172-byte datagram on loopback to a socket that is being read.
func BenchmarkSendtoLoopback(b *testing.B) {
	bp := newBenchPair(b, "ulaw", "ulaw")
	drain(b, bp.p2)
	dst := bp.p2.LocalAddr().(*net.UDPAddr).AddrPort()
	b.SetBytes(int64(len(bp.pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bp.p1.WriteToUDPAddrPort(bp.pkt, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranscodeFrame: one 20 ms frame ulaw -> 8 kHz linear -> alaw,
// no I/O.
func BenchmarkTranscodeFrame(b *testing.B) {
	u, _ := codec.Lookup("ulaw")
	a, _ := codec.Lookup("alaw")
	dec, err := u.NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	enc, err := a.NewEncoder()
	if err != nil {
		b.Fatal(err)
	}
	in := make([]byte, 160)
	for i := range in {
		in[i] = byte(i * 7)
	}
	var pcm []int16
	var out []byte
	b.SetBytes(160)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pcm, _ = dec.Decode(pcm[:0], in)
		out, _ = enc.Encode(out[:0], pcm)
	}
	if len(out) != 160 {
		b.Fatalf("encoded %d bytes, want 160", len(out))
	}
}

// BenchmarkSendConnectedLoopback is BenchmarkSendtoLoopback on a connected
// socket (write, no address): what a session connected to its latched
// peer would pay per packet instead.
func BenchmarkSendConnectedLoopback(b *testing.B) {
	bp := newBenchPair(b, "ulaw", "ulaw")
	drain(b, bp.p2)
	c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(benchIP)}, bp.p2.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	b.SetBytes(int64(len(bp.pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(bp.pkt); err != nil {
			b.Fatal(err)
		}
	}
}
