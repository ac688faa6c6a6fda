package rtp

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func newAlloc(t *testing.T, start, end int) *Allocator {
	t.Helper()
	a, err := NewAllocator(start, end)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func TestAllocatorRangeAndExhaustion(t *testing.T) {
	a := newAlloc(t, 33001, 33006) // rounded to 33002: pairs 33002 and 33004
	ip := netip.MustParseAddr("127.0.0.1")
	s1, err := a.Open(ip)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := a.Open(ip)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session{s1, s2} {
		if p := s.Local().Port(); p%2 != 0 || p < 33002 || p > 33004 {
			t.Errorf("RTP port %d, want an even port in 33002-33004", p)
		}
	}
	if _, err := a.Open(ip); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third Open: %v, want ErrNoPorts", err)
	}
	s1.Close()
	s3, err := a.Open(ip)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
	s2.Close()
	if n := a.InUse(ip); n != 0 {
		t.Errorf("InUse after closing every session = %d, want 0", n)
	}
}

// TestAllocatorSkipsForeignPorts: a pair another socket holds is skipped
// (and tried again later), and the allocator's own pairs are counted.
func TestAllocatorSkipsForeignPorts(t *testing.T) {
	a := newAlloc(t, 33102, 33107) // pairs 33102, 33104, 33106
	ip := netip.MustParseAddr("127.0.0.1")
	foreign, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 33105}) // RTCP port of the second pair
	if err != nil {
		t.Skipf("cannot hold port 33105: %v", err)
	}
	var ss []*Session
	for i := 0; i < 2; i++ {
		s, err := a.Open(ip)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		if s.Local().Port() == 33104 {
			t.Errorf("got pair 33104 whose RTCP port is held elsewhere")
		}
		ss = append(ss, s)
	}
	if n := a.InUse(ip); n != 2 {
		t.Errorf("InUse = %d, want 2", n)
	}
	if _, err := a.Open(ip); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("Open with the range taken: %v, want ErrNoPorts", err)
	}
	foreign.Close()
	s, err := a.Open(ip)
	if err != nil || s.Local().Port() != 33104 {
		t.Fatalf("Open after the foreign socket closed: %v %v, want pair 33104", s, err)
	}
	for _, s := range append(ss, s) {
		s.Close()
	}
}

// TestReceiveLatchSend: packets reach the handler, the session latches on
// their source, what it sends goes back there, and after Close nothing is
// delivered.
func TestReceiveLatchSend(t *testing.T) {
	a := newAlloc(t, 33100, 33199)
	s, err := a.Open(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int32
	s.SetHandler(func(p *rtp.Packet, raw []byte) {
		if p.PayloadType == 0 && len(p.Payload) == 160 {
			got.Add(1)
		}
	})
	s.SetRemote(netip.MustParseAddrPort("127.0.0.1:9")) // the SDP says port 9
	s.Start()
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7}, Payload: make([]byte, 160)}
	for i := 0; i < 5; i++ {
		pkt.SequenceNumber = uint16(i)
		b, _ := pkt.Marshal()
		peer.WriteToUDPAddrPort(b, s.Local())
	}
	deadline := time.Now().Add(2 * time.Second)
	for got.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got.Load() != 5 {
		t.Fatalf("handler saw %d packets, want 5", got.Load())
	}
	if r, _ := s.Remote(); r != peer.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("latched on %v, want the packets' source %v", r, peer.LocalAddr())
	}
	if err := s.Send(8, true, []byte{1, 2, 3}, 160); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 1500)
	n, err := peer.Read(buf)
	if err != nil {
		t.Fatalf("nothing came back to the latched source: %v", err)
	}
	var back rtp.Packet
	if err := back.Unmarshal(buf[:n]); err != nil || back.PayloadType != 8 || !back.Marker || back.SSRC != s.SSRC() {
		t.Fatalf("sent packet %+v (err %v)", back.Header, err)
	}
	s.Close()
	before := got.Load()
	b, _ := pkt.Marshal()
	peer.WriteToUDPAddrPort(b, s.Local())
	time.Sleep(50 * time.Millisecond)
	if got.Load() != before {
		t.Errorf("a packet was delivered after Close")
	}
	if err := s.Send(0, false, []byte{1}, 160); err != nil {
		t.Errorf("Send after Close: %v, want a silent no-op", err)
	}
}

// TestPairSetFirstFree checks the bitmap search against a plain scan, the
// wrap-around included, over word boundaries.
func TestPairSetFirstFree(t *testing.T) {
	for _, pairs := range []int{1, 63, 64, 65, 130, 5000} {
		p := &pairSet{words: make([]uint64, (pairs+63)/64)}
		held := make([]bool, pairs)
		rnd := uint64(pairs)
		for step := 0; step < 4*pairs; step++ {
			rnd = rnd*6364136223846793005 + 1442695040888963407
			n := int(rnd>>33) % pairs
			held[n] = !held[n]
			p.words[n/64] ^= 1 << (n % 64)
			from := int(rnd>>13) % pairs
			want, wantOK := -1, false
			for i := 0; i < pairs; i++ {
				if k := (from + i) % pairs; !held[k] {
					want, wantOK = k, true
					break
				}
			}
			got, ok := p.firstFree(from, pairs)
			if ok != wantOK || (ok && got != want) {
				t.Fatalf("pairs %d from %d: got %d,%v want %d,%v", pairs, from, got, ok, want, wantOK)
			}
		}
	}
}

// BenchmarkReserveNearlyFull: one reservation and release with 99% of a
// 5,000-pair range held (an overloaded B2BUA).
func BenchmarkReserveNearlyFull(b *testing.B) {
	a := &Allocator{start: 10000, end: 19999, inUse: map[netip.Addr]*pairSet{}}
	ip := netip.MustParseAddr("127.0.0.1")
	for i := 0; i < 4950; i++ {
		a.reserve(ip)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, ok := a.reserve(ip)
		if !ok {
			b.Fatal("full")
		}
		a.release(ip, n)
	}
}

// BenchmarkOpenClose is a call leg's socket lifecycle: Open, Start, Close.
// "reuse" is the steady state of a busy server, where a parked pair has
// always served its quarantine (0 here); "fresh" parks nothing, so every
// Open binds new sockets as before parking existed.
func BenchmarkOpenClose(b *testing.B) {
	for _, bc := range []struct {
		name      string
		maxParked int
	}{{"reuse", 2048}, {"fresh", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			a, err := NewAllocator(38000, 39999)
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			a.Quarantine, a.MaxParked = 0, bc.maxParked
			ip := netip.MustParseAddr("127.0.171.1")
			b.ReportAllocs()
			for b.Loop() {
				s, err := a.Open(ip)
				if err != nil {
					b.Fatal(err)
				}
				s.Start()
				s.Close()
			}
		})
	}
}
