//go:build linux

package media

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// TestKernelForward: with kernelforward on, a bridged same-codec call is
// handed to the kernel once both far ends are latched; packets keep
// flowing both ways from our ports, the kernel's counters keep the RTP
// timeout from firing although user space sees none of them, and breaking
// the bridge takes the pair back.
func TestKernelForward(t *testing.T) {
	m, err := NewManager(Config{Start: 33000, End: 33099, Timeout: 2 * time.Second, KernelTable: fmt.Sprintf("gopbx_mt_%d", os.Getpid())}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if on, _ := m.Kernel(); !on {
		if os.Getenv("CI") == "true" {
			t.Fatal("in-kernel forwarding unavailable under CI (needs root and nf_tables)")
		}
		t.Skip("in-kernel forwarding unavailable (needs root and nf_tables)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	ip := netip.MustParseAddr("127.0.44.1")
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
	p1, p2 := newPhone(t, "127.0.44.2"), newPhone(t, "127.0.44.3")
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
