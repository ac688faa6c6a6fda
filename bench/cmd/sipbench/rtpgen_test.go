package main

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func freeUDPAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Two sides stream to each other directly: every packet sent arrives,
// is counted on the right side and is timed; written to the loopback
// device (when the test may) and sent on the UDP sockets.
func TestRTPGeneratorLoopback(t *testing.T) {
	for _, udp := range []string{"", "1"} {
		t.Run("udp="+udp, func(t *testing.T) {
			t.Setenv("SIPBENCH_RTP_UDP", udp)
			before := loopbackSysctls()
			testRTPGenerator(t)
			// Unless another sipbench is injecting meanwhile, what was
			// changed is restored.
			f, err := os.Open(loopbackLockPath)
			if err != nil {
				return // never injected
			}
			defer f.Close()
			if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
				return
			}
			if b, _ := io.ReadAll(f); len(b) > 0 {
				t.Errorf("left to restore: %q", b)
			}
			if after := loopbackSysctls(); before == "0 0" && after != before {
				t.Errorf("loopback settings %q before, %q after", before, after)
			}
		})
	}
}

func loopbackSysctls() string {
	var out []string
	for _, k := range []string{"route_localnet", "accept_local"} {
		b, _ := os.ReadFile("/proc/sys/net/ipv4/conf/lo/" + k)
		out = append(out, strings.TrimSpace(string(b)))
	}
	return strings.Join(out, " ")
}

// rtpSides listens two generator sides on free loopback ports, the
// second expecting payload type ptB; both close when the test ends.
func rtpSides(t *testing.T, ptB uint8) (a, b *rtpSide) {
	t.Helper()
	epoch := time.Now()
	a, err := listenRTPSide(freeUDPAddr(t), 2, 0, epoch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	b, err = listenRTPSide(freeUDPAddr(t), 2, ptB, epoch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return a, b
}

func testRTPGenerator(t *testing.T) {
	a, b := rtpSides(t, 8)
	aAddr, bAddr := a.addr, b.addr
	const calls = 150
	toB, toA := make([]netip.AddrPort, calls), make([]netip.AddrPort, calls+7)
	for i := range toB {
		toB[i] = bAddr
	}
	for i := range toA {
		toA[i] = aAddr
	}
	lat0 := append(a.latency(), b.latency()...)
	ctx, stop := context.WithCancel(context.Background())
	a.stream(ctx, toB)
	b.stream(ctx, toA)
	t.Logf("packet sockets: %d and %d", len(a.senders), len(b.senders))
	const d = 500 * time.Millisecond
	time.Sleep(d)
	stop()
	time.Sleep(200 * time.Millisecond) // the senders stop; in flight
	as, bs := a.sentTotal(), b.sentTotal()
	// 50 packets/s a call, give or take a period at each end.
	for _, c := range []struct {
		sent uint64
		n    int
	}{{as, len(toB)}, {bs, len(toA)}} {
		want := float64(c.n) * 50 * d.Seconds()
		if f := float64(c.sent); f < want*0.8 || f > want*1.2 {
			t.Errorf("%d calls sent %d packets in %v, want about %.0f", c.n, c.sent, d, want)
		}
	}
	if ar, br := a.received(), b.received(); ar != bs || br != as {
		t.Errorf("a sent %d, b received %d; b sent %d, a received %d", as, br, bs, ar)
	}
	lat := latencyOf(lat0, append(a.latency(), b.latency()...))
	if lat.N != as+bs || lat.P50 > 50 {
		t.Errorf("latency %+v over %d packets", lat, as+bs)
	}
	done := make(chan struct{})
	go func() {
		a.close()
		b.close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("close hangs")
	}
}

// A frame's headers are those of the UDP socket's datagram, checksums
// included once the device completes the UDP one.
func TestLoopbackFrame(t *testing.T) {
	src, dst := netip.MustParseAddrPort("127.0.0.162:40000"), netip.MustParseAddrPort("127.0.0.161:10002")
	m := newFrameConn(-1, src, 172)
	pkt := m.next()
	for i := range pkt {
		pkt[i] = byte(i * 7)
	}
	m.queue(dst, 171) // odd, to check the padding
	b := m.bufs[0][:m.iovs[0].Len]
	if len(b) != frameHdr+171 || m.n != 1 {
		t.Fatalf("frame of %d bytes, %d queued", len(b), m.n)
	}
	v, ip, udp := b[:vnetHdr], b[vnetHdr+14:vnetHdr+34], b[vnetHdr+34:]
	if v[0] != 1 || binary.LittleEndian.Uint16(v[6:]) != 34 || binary.LittleEndian.Uint16(v[8:]) != 6 {
		t.Errorf("virtio header % x", v)
	}
	if binary.BigEndian.Uint16(b[vnetHdr+12:]) != 0x0800 || ip[0] != 0x45 || ip[9] != 17 || binary.BigEndian.Uint16(ip[2:]) != 20+8+171 {
		t.Errorf("IPv4 header % x", ip)
	}
	if netip.AddrFrom4([4]byte(ip[12:16])) != src.Addr() || netip.AddrFrom4([4]byte(ip[16:20])) != dst.Addr() ||
		binary.BigEndian.Uint16(udp[0:]) != src.Port() || binary.BigEndian.Uint16(udp[2:]) != dst.Port() || binary.BigEndian.Uint16(udp[4:]) != 8+171 {
		t.Errorf("addresses: IPv4 % x, UDP % x", ip[12:20], udp[:8])
	}
	if s := naiveSum(ip); s != 0xffff {
		t.Errorf("IPv4 header checksum does not check: %#x", s)
	}
	// The device's part: the ones' complement of the sum from the UDP
	// header on, the field (the pseudo-header sum) included.
	full := append([]byte(nil), udp...)
	binary.BigEndian.PutUint16(full[6:], ^naiveSum(udp))
	pseudo := append(append([]byte(nil), ip[12:20]...), 0, 17, 0, 8+171)
	if s := naiveSum(append(pseudo, full...)); s != 0xffff {
		t.Errorf("UDP checksum does not check: %#x", s)
	}
}

// naiveSum is the folded ones' complement sum of b as 16-bit words.
func naiveSum(b []byte) uint16 {
	var s uint32
	for i := 0; i < len(b); i += 2 {
		w := uint32(b[i]) << 8
		if i+1 < len(b) {
			w |= uint32(b[i+1])
		}
		s += w
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// TestRTPGeneratorCost measures the generator's CPU per packet with two
// sides streaming to each other directly (no server between them); set
// RTPGEN_COST_CALLS to run it.
func TestRTPGeneratorCost(t *testing.T) {
	calls, _ := strconv.Atoi(os.Getenv("RTPGEN_COST_CALLS"))
	if calls == 0 {
		t.Skip("RTPGEN_COST_CALLS not set")
	}
	a, b := rtpSides(t, 0)
	aAddr, bAddr := a.addr, b.addr
	toB, toA := make([]netip.AddrPort, calls), make([]netip.AddrPort, calls)
	for i := range toB {
		toB[i], toA[i] = bAddr, aAddr
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a.stream(ctx, toB)
	b.stream(ctx, toA)
	time.Sleep(time.Second)
	cpu0, r0, s0, t0 := selfCPU(), a.received()+b.received(), a.sentTotal()+b.sentTotal(), time.Now()
	l0 := append(a.latency(), b.latency()...)
	time.Sleep(5 * time.Second)
	cpu1, r1, s1, wall := selfCPU(), a.received()+b.received(), a.sentTotal()+b.sentTotal(), time.Since(t0)
	lat := latencyOf(l0, append(a.latency(), b.latency()...))
	pps := float64(r1-r0) / wall.Seconds()
	t.Logf("%d calls: sent %.0f/s received %.0f/s, CPU %.0f%%, %.0f ns a packet, latency p50/p99/max %.0f/%.0f/%.0f ms, late slots %d",
		calls, float64(s1-s0)/wall.Seconds(), pps, 100*(cpu1-cpu0).Seconds()/wall.Seconds(),
		float64((cpu1-cpu0).Nanoseconds())/float64(r1-r0), lat.P50, lat.P99, lat.Max, a.lateSlots()+b.lateSlots())
}
