//go:build linux

package media

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/netnstest"
)

// TestKernelForward: with kernelforward on, a bridged same-codec call is
// handed to the kernel once both far ends are latched; packets keep
// flowing both ways from our ports, the kernel's counters keep the RTP
// timeout from firing although user space sees none of them, and breaking
// the bridge takes the pair back.
func TestKernelForward(t *testing.T) {
	testKernelForward(t, "127.0.44.1", "127.0.44.2", "127.0.44.3", "127.0.44.4")
}

// TestKernelForwardIPv6: the same with IPv6 phones and ports (the ip6
// table), in a network namespace of its own whose lo gets four ULA
// addresses (the host's lo has only ::1, and a far end on our own address
// makes the kernel's rules ambiguous).
func TestKernelForwardIPv6(t *testing.T) {
	netnstest.RunInLoopbackNS(t, "mv6", "TestHelperKernelIPv6", "fd00:44::1/128", "fd00:44::2/128", "fd00:44::3/128", "fd00:44::4/128")
}

// TestHelperKernelIPv6 is TestKernelForwardIPv6's body, in its namespace.
func TestHelperKernelIPv6(t *testing.T) {
	if !netnstest.InHelper() {
		return
	}
	testKernelForward(t, "fd00:44::1", "fd00:44::2", "fd00:44::3", "fd00:44::4")
}

func testKernelForward(t *testing.T, ours, phone1, phone2, stranger string) {
	m := kernelManager(t, Config{Start: 33000, End: 33099, Timeout: 2 * time.Second}, "mt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	ip := netip.MustParseAddr(ours)
	timedOut := make(chan string, 2)
	a, err := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, func() { timedOut <- "a" })
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, func() { timedOut <- "b" })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	p1, p2 := newPhone(t, phone1), newPhone(t, phone2)
	bridge(t, a, b, p1, p2)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, x := range []struct {
		p   *phone
		dst netip.AddrPort
	}{{p1, a.Session().Local()}, {p2, b.Session().Local()}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					x.p.send(x.dst, ulaw(t), 0, 1000, 10)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, n := m.Kernel(); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bridge was not handed to the kernel within 3 s of both ends sending")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Longer than the RTP timeout, with every packet in the kernel.
	select {
	case who := <-timedOut:
		t.Fatalf("RTP timeout fired for %s while the kernel forwarded its packets", who)
	case <-time.After(3 * time.Second):
	}
	for _, c := range []struct {
		p    *phone
		from netip.AddrPort
	}{{p1, a.Session().Local()}, {p2, b.Session().Local()}} {
		c.p.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		buf := make([]byte, 1500)
		got := 0
		for got < 20 {
			_, from, err := c.p.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if from != c.from {
				t.Fatalf("packet from %v, want our port %v", from, c.from)
			}
			got++
		}
		if got < 20 {
			t.Fatalf("phone got %d packets in 500 ms through the kernel", got)
		}
	}
	// A stranger sending to our port for 1.5 s must not take the latched
	// stream over while the kernel forwards it (its counters reach
	// lastRecv only once a second).
	stray := newPhone(t, stranger)
	for i := 0; i < 75; i++ {
		stray.conn.WriteToUDPAddrPort(rtpPacket(), a.Session().Local())
		time.Sleep(20 * time.Millisecond)
	}
	if r, _ := a.Session().Latched(); r != p1.conn.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("a stranger took the stream over: latched on %v", r)
	}
	if _, n := m.Kernel(); n != 1 {
		t.Fatalf("%d pairs in the kernel after a stranger's packets, want 1", n)
	}
	cs, err := m.kf.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("kernel counters %v, want two flows", cs)
	}
	for fl, n := range cs {
		if n < 50 {
			t.Errorf("flow %v: %d packets in the kernel, want the stream's", fl, n)
		}
	}
	if a.Session().PacketsIn.Load() < 50 {
		t.Errorf("a's packet count %d does not include the kernel's", a.Session().PacketsIn.Load())
	}

	b.Leave()
	if _, n := m.Kernel(); n != 0 {
		t.Fatalf("%d pairs in the kernel after the bridge broke", n)
	}
	if cs, err := m.kf.Counters(); err != nil || len(cs) != 0 {
		t.Fatalf("kernel entries after the bridge broke: %v %v", cs, err)
	}
	time.Sleep(100 * time.Millisecond)
	p2.recv(50 * time.Millisecond) // drain
	if pts, _ := p2.recv(300 * time.Millisecond); len(pts) != 0 {
		t.Fatalf("callee got %d packets after the bridge broke", len(pts))
	}
}

// TestKernelChurn: bridges between the same two far ends are broken,
// re-joined and re-negotiated while packets flow (run under -race). Right
// after Leave no entry of that bridge may be in the kernel (an offload
// racing the Leave must not survive it); at the end every bridge goes in,
// and closing the streams empties the kernel's maps.
func TestKernelChurn(t *testing.T) {
	m := kernelManager(t, Config{Start: 33200, End: 33299}, "mc")
	ip := netip.MustParseAddr("127.0.44.11")
	x, y := newPhone(t, "127.0.44.12"), newPhone(t, "127.0.44.13")
	const pairs = 8
	var as, bs []*Stream
	for i := 0; i < pairs; i++ {
		a, err := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.NewStream(ip, Options{Allow: []string{"ulaw"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		bridge(t, a, b, x, y)
		as, bs = append(as, a), append(bs, b)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, side := range []struct {
		p   *phone
		dst []*Stream
	}{{x, as}, {y, bs}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pkt := make([]byte, 12+160)
			pkt[0] = 0x80
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				pkt[3] = byte(seq)
				for _, s := range side.dst {
					side.p.conn.WriteToUDPAddrPort(pkt, s.Session().Local())
				}
			}
		}()
	}
	// Drain what the phones receive so their buffers never fill.
	for _, p := range []*phone{x, y} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				select {
				case <-stop:
					return
				default:
				}
				p.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				p.conn.Read(buf)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	inKernel := func(s *Stream) bool {
		cs, err := m.kf.Counters()
		if err != nil {
			t.Fatal(err)
		}
		for fl := range cs {
			if fl.To == s.Session().Local() {
				return true
			}
		}
		return false
	}
	end := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(end); i++ {
		k := i % pairs
		switch i % 3 {
		case 0:
			// Break the bridge at a random point of the 5 ms until its
			// next packet asks for the kernel, so that some Leaves race
			// the worker's offload.
			for r := 0; r < 4; r++ {
				bs[k].Leave()
				if inKernel(as[k]) || inKernel(bs[k]) {
					t.Fatalf("bridge %d still in the kernel after Leave", k)
				}
				as[k].Join(bs[k])
				time.Sleep(time.Duration(rand.IntN(6000)) * time.Microsecond)
			}
		case 1:
			if _, err := as[k].AcceptOffer(x.sdp("PCMU", 0)); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := bs[k].AcceptAnswer(y.sdp("PCMU", 0)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(3 * time.Millisecond)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, n := m.Kernel(); n == pairs {
			break
		}
		if time.Now().After(deadline) {
			_, n := m.Kernel()
			t.Fatalf("%d of %d bridges in the kernel after the churn", n, pairs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range as {
		as[i].Close()
		bs[i].Close()
	}
	if _, n := m.Kernel(); n != 0 {
		t.Fatalf("%d bridges in the kernel after every stream closed", n)
	}
	if cs, err := m.kf.Counters(); err != nil || len(cs) != 0 {
		t.Fatalf("kernel entries after every stream closed: %v %v", cs, err)
	}
}

// kernelManager makes a manager with in-kernel forwarding on a table of
// the test's own, or fails under CI (root there) and skips elsewhere.
func kernelManager(t *testing.T, cfg Config, tag string) *Manager {
	t.Helper()
	cfg.KernelTable = fmt.Sprintf("gopbx_%s_%d", tag, os.Getpid())
	m, err := NewManager(cfg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if on, _ := m.Kernel(); !on {
		if os.Getenv("CI") == "true" {
			t.Fatal("in-kernel forwarding unavailable under CI (needs root and nf_tables)")
		}
		t.Skip("in-kernel forwarding unavailable (needs root and nf_tables)")
	}
	return m
}

// bridge negotiates PCMU between caller phone p1 and stream a, and between
// b and callee phone p2, and joins a and b.
func bridge(t *testing.T, a, b *Stream, p1, p2 *phone) {
	t.Helper()
	if _, err := a.AcceptOffer(p1.sdp("PCMU", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Offer(a.Codec()); err != nil {
		t.Fatal(err)
	}
	if err := b.AcceptAnswer(p2.sdp("PCMU", 0)); err != nil {
		t.Fatal(err)
	}
	a.Join(b)
}

// rtpPacket is a PCMU packet with a checksum-carrying UDP socket's framing.
func rtpPacket() []byte {
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	return pkt
}
