//go:build linux

package kfwd

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopbx/gopbx/internal/netnstest"
)

// open makes a forwarder with a table of the test's own, or fails under
// CI (which runs as root) and skips elsewhere when nftables is not ours.
func open(t *testing.T) *Forwarder {
	t.Helper()
	f, err := Open(fmt.Sprintf("gopbx_test_%d", os.Getpid()))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("in-kernel forwarding unavailable under CI: %v", err)
		}
		t.Skipf("in-kernel forwarding unavailable (needs root and nf_tables): %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func udp(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	network := "udp4"
	if ap.Addr().Is6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// recv reads one datagram or reports none within d.
func recv(c *net.UDPConn, d time.Duration) (string, netip.AddrPort, bool) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 2048)
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return "", netip.AddrPort{}, false
	}
	return string(b[:n]), from, true
}

// TestForwardBothWays: with a bridge installed, a phone's packet to our
// port reaches the other phone from our other port, without our sockets
// seeing it, both ways; the counters count them; a stranger's packet
// still reaches our socket; after Remove our sockets get packets again.
func TestForwardBothWays(t *testing.T) {
	testForwardBothWays(t, "127.0.43.2:0", "127.0.43.3:0", "127.0.43.1:0", "127.0.43.4:0")
}

// TestForwardBothWaysIPv6: the same over IPv6 (the ip6 table), and the
// ip6 table listed and loaded back. The host's lo has only ::1, and a far
// end on our own address makes the rules ambiguous (the packet matches the
// after-routing maps on its way out), so it runs in a network namespace
// of its own whose lo gets four ULA addresses.
func TestForwardBothWaysIPv6(t *testing.T) {
	netnstest.RunInLoopbackNS(t, "v6", "TestHelperIPv6", "fd00:43::1/128", "fd00:43::2/128", "fd00:43::3/128", "fd00:43::4/128")
}

// TestHelperIPv6 is TestForwardBothWaysIPv6's body, run in its namespace.
func TestHelperIPv6(t *testing.T) {
	if !netnstest.InHelper() {
		return
	}
	// Subtests: each forwarder is closed before the next opens its table.
	t.Run("forward", func(t *testing.T) {
		testForwardBothWays(t, "[fd00:43::2]:0", "[fd00:43::3]:0", "[fd00:43::1]:0", "[fd00:43::4]:0")
	})
	t.Run("ruleset", func(t *testing.T) {
		testRulesetRoundTrip(t, "ip6", "[fd00:43::2]:0", "[fd00:43::3]:0", "[fd00:43::1]:0")
	})
}

func testForwardBothWays(t *testing.T, caller, callee, ours, stranger string) {
	f := open(t)
	if ap := netip.MustParseAddrPort(ours); ap.Addr().Is6() && !f.IPv6() {
		t.Fatal("no ip6 table: IPv6 streams would stay in user space")
	}
	x := udp(t, caller)      // caller phone
	y := udp(t, callee)      // callee phone
	gA := udp(t, ours)       // our port facing x
	gB := udp(t, ours)       // our port facing y
	evil := udp(t, stranger) // someone else
	a, b := Leg{Remote: addrOf(x), Local: addrOf(gA)}, Leg{Remote: addrOf(y), Local: addrOf(gB)}
	br, err := f.Add(a, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := x.WriteToUDPAddrPort([]byte("x->y"), addrOf(gA)); err != nil {
			t.Fatal(err)
		}
		got, from, ok := recv(y, time.Second)
		if !ok || got != "x->y" || from != addrOf(gB) {
			t.Fatalf("callee got %q from %v (ok %v), want x->y from %v", got, from, ok, addrOf(gB))
		}
		if _, err := y.WriteToUDPAddrPort([]byte("y->x"), addrOf(gB)); err != nil {
			t.Fatal(err)
		}
		got, from, ok = recv(x, time.Second)
		if !ok || got != "y->x" || from != addrOf(gA) {
			t.Fatalf("caller got %q from %v (ok %v), want y->x from %v", got, from, ok, addrOf(gA))
		}
	}
	if got, _, ok := recv(gA, 50*time.Millisecond); ok {
		t.Fatalf("our socket saw a forwarded packet %q", got)
	}
	if _, err := evil.WriteToUDPAddrPort([]byte("evil"), addrOf(gA)); err != nil {
		t.Fatal(err)
	}
	if got, from, ok := recv(gA, time.Second); !ok || got != "evil" || from != addrOf(evil) {
		t.Fatalf("a stranger's packet should reach user space: %q from %v", got, from)
	}
	if _, _, ok := recv(y, 50*time.Millisecond); ok {
		t.Fatal("a stranger's packet was forwarded")
	}
	cs, err := f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	fl := Flows(a, b)
	if cs[fl[0]] != 3 || cs[fl[1]] != 3 {
		t.Fatalf("counters %v, want 3 each way for %v", cs, fl)
	}
	if err := f.Remove(br); err != nil {
		t.Fatal(err)
	}
	if _, err := x.WriteToUDPAddrPort([]byte("back"), addrOf(gA)); err != nil {
		t.Fatal(err)
	}
	if got, from, ok := recv(gA, time.Second); !ok || got != "back" || from != addrOf(x) {
		t.Fatalf("after Remove our socket should get the packet: %q from %v", got, from)
	}
	if cs, err := f.Counters(); err != nil || len(cs) != 0 {
		t.Fatalf("after Remove counters %v, %v", cs, err)
	}
}

func TestReachable(t *testing.T) {
	f := open(t)
	if !f.Reachable(netip.MustParseAddr("127.0.0.9")) {
		t.Error("loopback not reachable")
	}
	if !f.Reachable(netip.MustParseAddr("::1")) {
		t.Error("IPv6 loopback not reachable")
	}
	if !f.Reachable(netip.MustParseAddr("::ffff:127.0.0.9")) {
		t.Error("IPv4-mapped loopback not reachable")
	}
	v4, v6 := netip.MustParseAddrPort("127.0.0.1:6"), netip.MustParseAddrPort("[::1]:5")
	if _, err := f.Add(Leg{Remote: v6, Local: v4}, Leg{Remote: v6, Local: v6}); err == nil {
		t.Error("a bridge of IPv4 and IPv6 addresses accepted")
	}
	if _, err := f.Add(Leg{Remote: netip.MustParseAddrPort("0.0.0.0:5"), Local: v4}, Leg{Remote: v4, Local: v4}); err == nil {
		t.Error("an unspecified address accepted")
	}
	if Pairable(v4.Addr(), v6.Addr()) || !Pairable(netip.MustParseAddr("::ffff:10.0.0.1"), v4.Addr()) {
		t.Error("Pairable mixes families, or tells an IPv4-mapped address from IPv4")
	}
}

// TestSameFarEnds: two calls between the same two far-end addresses (a
// gateway's, or the benchmark generator's, shared ports) through
// different ports of ours stay apart: each packet leaves from the port
// of its own call.
func TestSameFarEnds(t *testing.T) {
	f := open(t)
	x := udp(t, "127.0.43.12:0")
	y := udp(t, "127.0.43.13:0")
	g := []*net.UDPConn{udp(t, "127.0.43.11:0"), udp(t, "127.0.43.11:0"), udp(t, "127.0.43.11:0"), udp(t, "127.0.43.11:0")}
	var brs []*Bridge
	for i := 0; i < 2; i++ {
		br, err := f.Add(Leg{Remote: addrOf(x), Local: addrOf(g[2*i])}, Leg{Remote: addrOf(y), Local: addrOf(g[2*i+1])})
		if err != nil {
			t.Fatalf("bridge %d: %v", i, err)
		}
		brs = append(brs, br)
	}
	for i := 0; i < 2; i++ {
		x.WriteToUDPAddrPort([]byte(fmt.Sprint("x", i)), addrOf(g[2*i]))
		if got, from, ok := recv(y, time.Second); !ok || got != fmt.Sprint("x", i) || from != addrOf(g[2*i+1]) {
			t.Fatalf("call %d: callee got %q from %v, want from %v", i, got, from, addrOf(g[2*i+1]))
		}
		y.WriteToUDPAddrPort([]byte(fmt.Sprint("y", i)), addrOf(g[2*i+1]))
		if got, from, ok := recv(x, time.Second); !ok || got != fmt.Sprint("y", i) || from != addrOf(g[2*i]) {
			t.Fatalf("call %d: caller got %q from %v, want from %v", i, got, from, addrOf(g[2*i]))
		}
	}
	for _, br := range brs {
		if err := f.Remove(br); err != nil {
			t.Fatal(err)
		}
	}
	if cs, err := f.Counters(); err != nil || len(cs) != 0 {
		t.Errorf("entries after Remove: %v %v", cs, err)
	}
}

// BenchmarkAddRemove: installing and removing one bridge (one netlink
// transaction each).
func BenchmarkAddRemove(b *testing.B) {
	f, err := Open(fmt.Sprintf("gopbx_bench_%d", os.Getpid()))
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	x, y := netip.MustParseAddrPort("127.0.43.22:4000"), netip.MustParseAddrPort("127.0.43.23:4000")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := uint16(10000 + 2*(i%20000))
		br, err := f.Add(Leg{Remote: x, Local: netip.AddrPortFrom(netip.MustParseAddr("127.0.43.21"), p)}, Leg{Remote: y, Local: netip.AddrPortFrom(netip.MustParseAddr("127.0.43.21"), p+1)})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Remove(br); err != nil {
			b.Fatal(err)
		}
	}
}

// TestZeroChecksum: a datagram without UDP checksum (0, valid over IPv4)
// is left to user space, where it arrives intact, instead of being
// forwarded with a checksum the port rewrites would have made wrong.
func TestZeroChecksum(t *testing.T) {
	f := open(t)
	x, y := udp(t, "127.0.43.32:0"), udp(t, "127.0.43.33:0")
	gA, gB := udp(t, "127.0.43.31:0"), udp(t, "127.0.43.31:0")
	br, err := f.Add(Leg{Remote: addrOf(x), Local: addrOf(gA)}, Leg{Remote: addrOf(y), Local: addrOf(gB)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove(br)
	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw)
	if err := unix.Bind(raw, &unix.SockaddrInet4{Addr: addrOf(x).Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	payload := []byte("no checksum")
	dgram := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(dgram[0:], addrOf(x).Port())
	binary.BigEndian.PutUint16(dgram[2:], addrOf(gA).Port())
	binary.BigEndian.PutUint16(dgram[4:], uint16(len(dgram)))
	copy(dgram[8:], payload) // dgram[6:8], the checksum, stays 0
	if err := unix.Sendto(raw, dgram, 0, &unix.SockaddrInet4{Addr: addrOf(gA).Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	if got, from, ok := recv(gA, time.Second); !ok || got != string(payload) || from != addrOf(x) {
		t.Fatalf("our socket got %q from %v (ok %v), want the checksum-less datagram from %v", got, from, ok, addrOf(x))
	}
	if got, _, ok := recv(y, 50*time.Millisecond); ok {
		t.Fatalf("a checksum-less datagram was forwarded: %q", got)
	}
}

// TestRulesetRoundTrip: `nft list` prints the table without errors (an
// admin's `nft list ruleset > /etc/nftables.conf` must load back), and the
// printed rules, loaded back in place of the originals, forward the same.
func TestRulesetRoundTrip(t *testing.T) {
	testRulesetRoundTrip(t, "ip", "127.0.43.42:0", "127.0.43.43:0", "127.0.43.41:0")
}

func testRulesetRoundTrip(t *testing.T, family, caller, callee, ours string) {
	f := open(t)
	x, y := udp(t, caller), udp(t, callee)
	gA, gB := udp(t, ours), udp(t, ours)
	if _, err := f.Add(Leg{Remote: addrOf(x), Local: addrOf(gA)}, Leg{Remote: addrOf(y), Local: addrOf(gB)}); err != nil {
		t.Fatal(err)
	}
	listed, err := exec.Command("nft", "list", "table", family, f.Table()).CombinedOutput()
	if err != nil || strings.Contains(string(listed), "Error") {
		t.Fatalf("nft list table: %v\n%s", err, listed)
	}
	if out, err := exec.Command("nft", "delete", "table", family, f.Table()).CombinedOutput(); err != nil {
		t.Fatalf("nft delete table: %v %s", err, out)
	}
	load := exec.Command("nft", "-f", "-")
	load.Stdin = strings.NewReader(string(listed))
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("nft -f of the listed table: %v %s\n%s", err, out, listed)
	}
	x.WriteToUDPAddrPort([]byte("x->y"), addrOf(gA))
	if got, from, ok := recv(y, time.Second); !ok || got != "x->y" || from != addrOf(gB) {
		t.Fatalf("after reloading the listed rules the callee got %q from %v, want x->y from %v", got, from, addrOf(gB))
	}
	y.WriteToUDPAddrPort([]byte("y->x"), addrOf(gB))
	if got, from, ok := recv(x, time.Second); !ok || got != "y->x" || from != addrOf(gA) {
		t.Fatalf("after reloading the listed rules the caller got %q from %v, want y->x from %v", got, from, addrOf(gA))
	}
}
