//go:build linux

package kfwd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The forwarded path (prerouting -> forward -> postrouting), as when the
// phones are other hosts, tested with real packets through three network
// namespaces: the PBX routes between two veth links, a phone on each.
//
//	phone a 10.201.1.2:4000 --- 10.201.1.1:20000 [pbx] 10.201.2.1:20002 --- 10.201.2.2:4002 phone b
//
// Each namespace's side runs in a copy of this test binary started under
// `ip netns exec` (TestHelperForwarder, TestHelperPhone), driven by lines
// on its stdin and answering in lines on its stdout.

const netnsHelperEnv = "GOPBX_KFWD_NETNS_HELPER"

var (
	nsPhoneA = netip.MustParseAddrPort("10.201.1.2:4000")
	nsPhoneB = netip.MustParseAddrPort("10.201.2.2:4002")
	nsPortA  = netip.MustParseAddrPort("10.201.1.1:20000") // ours, facing a
	nsPortB  = netip.MustParseAddrPort("10.201.2.1:20002") // ours, facing b
)

// TestForwardBetweenNamespaces: with a bridge installed in the PBX's
// namespace, each phone's packets to our port reach the other phone from
// our other port, payload intact, both ways, forwarded by the kernel and
// never seen by our sockets; packets sent with a software checksum
// (which the receiver verifies, as a packet with a bad one shows) arrive,
// so the rewrites keep UDP checksums valid; the counters count every
// packet; after Remove our socket gets the packets again.
func TestForwardBetweenNamespaces(t *testing.T) {
	if os.Getenv(netnsHelperEnv) != "" {
		t.Skip("in a helper process")
	}
	start := time.Now()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespaces or nftables unavailable under CI: "+format, args...)
		}
		t.Skipf("needs root, iproute2, network namespaces and nf_tables: "+format, args...)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		unavailable("%v", err)
	}
	hostFwd, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	t.Cleanup(cancel)
	pid := os.Getpid()
	pbx, na, nb := fmt.Sprintf("gopbx%d-pbx", pid), fmt.Sprintf("gopbx%d-a", pid), fmt.Sprintf("gopbx%d-b", pid)
	for _, ns := range []string{pbx, na, nb} {
		if out, err := exec.CommandContext(ctx, "ip", "netns", "add", ns).CombinedOutput(); err != nil {
			unavailable("ip netns add %s: %v: %s", ns, err, bytes.TrimSpace(out))
		}
		t.Cleanup(func() {
			// Its own context: the test's may have run out.
			c, stop := context.WithTimeout(context.Background(), 2*time.Second)
			defer stop()
			if out, err := exec.CommandContext(c, "ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
			}
		})
	}
	// Everything is made inside the namespaces: the host's own network is
	// not touched.
	for _, args := range [][]string{
		{"-n", pbx, "link", "add", "a0", "type", "veth", "peer", "name", "pbx0", "netns", na},
		{"-n", pbx, "link", "add", "b0", "type", "veth", "peer", "name", "pbx0", "netns", nb},
		{"-n", pbx, "addr", "add", "10.201.1.1/24", "dev", "a0"},
		{"-n", pbx, "addr", "add", "10.201.2.1/24", "dev", "b0"},
		{"-n", na, "addr", "add", "10.201.1.2/24", "dev", "pbx0"},
		{"-n", nb, "addr", "add", "10.201.2.2/24", "dev", "pbx0"},
		{"-n", pbx, "link", "set", "lo", "up"},
		{"-n", pbx, "link", "set", "a0", "up"},
		{"-n", pbx, "link", "set", "b0", "up"},
		{"-n", na, "link", "set", "lo", "up"},
		{"-n", na, "link", "set", "pbx0", "up"},
		{"-n", nb, "link", "set", "lo", "up"},
		{"-n", nb, "link", "set", "pbx0", "up"},
		{"-n", na, "route", "add", "default", "via", "10.201.1.1"},
		{"-n", nb, "route", "add", "default", "via", "10.201.2.1"},
		// The PBX routes; strict reverse-path filtering, as many
		// distributions set it, must not get in the way.
		{"netns", "exec", pbx, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
		{"netns", "exec", pbx, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"},
		{"netns", "exec", pbx, "sysctl", "-q", "-w", "net.ipv4.ip_forward_update_priority=1"}, // the default
	} {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			unavailable("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}

	forwarder := func() *helper {
		t.Helper()
		fw := startHelper(ctx, t, pbx, "forwarder", "TestHelperForwarder",
			fmt.Sprintf("GOPBX_KFWD_TABLE=gopbx_test_%d", pid),
			"GOPBX_KFWD_LEGS="+strings.Join([]string{nsPhoneA.String(), nsPortA.String(), nsPhoneB.String(), nsPortB.String()}, " "))
		if l, ok := fw.next(t, "ready", "unavailable"); !ok {
			t.Fatalf("forwarder helper did not start: %s", fw.stderrText())
		} else if strings.HasPrefix(l, "unavailable") {
			unavailable("in namespace %s: %s", pbx, l)
		}
		return fw
	}
	// ip_forward_update_priority stays at its default (1: ip_forward
	// resets a forwarded packet's priority), which an earlier design that
	// carried a direction id in the priority did not survive.
	fw := forwarder()
	if l, _ := fw.next(t, "reachable"); l != "reachable true" {
		t.Errorf("Reachable(%v) with ip_forward=1: %q, want true", nsPhoneB.Addr(), l)
	}
	pa := startHelper(ctx, t, na, "phone a", "TestHelperPhone", "GOPBX_KFWD_BIND="+nsPhoneA.String())
	pb := startHelper(ctx, t, nb, "phone b", "TestHelperPhone", "GOPBX_KFWD_BIND="+nsPhoneB.String())
	for _, p := range []*helper{pa, pb} {
		if _, ok := p.next(t, "ready"); !ok {
			t.Fatalf("%s did not start: %s", p.name, p.stderrText())
		}
	}

	// Each phone sends n packets through its socket (checksum offloaded:
	// on veth the receiver takes it unverified) and n from a raw socket
	// with the checksum computed here (the receiver verifies it), RTP
	// sized, odd lengths among them; then one with a wrong checksum.
	const n = 5
	payload := func(who, kind string, i int) []byte {
		b := []byte(fmt.Sprintf("%s-%s-%d:", who, kind, i))
		for j := 0; len(b) < 172+i; j++ {
			b = append(b, byte(j*7+i))
		}
		return b
	}
	want := map[*helper][]string{}
	for i := 0; i < n; i++ {
		for _, kind := range []string{"udp", "raw"} {
			pa.send(t, kind, nsPortA, payload("a", kind, i))
			pb.send(t, kind, nsPortB, payload("b", kind, i))
			want[pb] = append(want[pb], fmt.Sprintf("got %v %x", nsPortB, payload("a", kind, i)))
			want[pa] = append(want[pa], fmt.Sprintf("got %v %x", nsPortA, payload("b", kind, i)))
		}
	}
	pa.send(t, "rawbad", nsPortA, payload("a", "bad", 0))
	pb.send(t, "rawbad", nsPortB, payload("b", "bad", 0))

	for _, p := range []*helper{pb, pa} {
		var got []string
		for range want[p] {
			l, ok := p.next(t, "got")
			if !ok {
				break
			}
			got = append(got, l)
		}
		// Anything more (the bad packet, a duplicate) would have come by now.
		time.Sleep(100 * time.Millisecond)
		got = append(got, p.taken("got")...)
		if !sameSet(got, want[p]) {
			t.Errorf("%s received (as \"got <from> <payload>\"):\n\t%s\nwant:\n\t%s", p.name, strings.Join(got, "\n\t"), strings.Join(want[p], "\n\t"))
		}
		// The bad packet was dropped by the receiver's checksum check: so
		// the good raw ones' arrival proves their checksums valid.
		p.do(t, "stats")
		if l, _ := p.next(t, "csumerrors"); l != "csumerrors 1" {
			t.Errorf("%s: UDP InCsumErrors %q, want 1 (the packet sent with a bad checksum)", p.name, l)
		}
	}

	fw.do(t, "counters")
	counted := map[Flow]uint64{}
	for {
		l, ok := fw.next(t, "counter", "end")
		if !ok || l == "end" {
			break
		}
		var from, to string
		var c uint64
		if _, err := fmt.Sscanf(l, "counter %s %s %d", &from, &to, &c); err != nil {
			t.Fatalf("forwarder helper: %q: %v", l, err)
		}
		counted[Flow{From: netip.MustParseAddrPort(from), To: netip.MustParseAddrPort(to)}] = c
	}
	fl := Flows(Leg{Remote: nsPhoneA, Local: nsPortA}, Leg{Remote: nsPhoneB, Local: nsPortB})
	if len(counted) != 2 || counted[fl[0]] != 2*n+1 || counted[fl[1]] != 2*n+1 {
		t.Errorf("counters %v, want %d for each of %v", counted, 2*n+1, fl)
	}
	if got := fw.taken("user"); len(got) != 0 {
		t.Errorf("our sockets saw forwarded packets:\n\t%s", strings.Join(got, "\n\t"))
	}

	// Without the bridge a's packet comes to our socket facing a.
	fw.do(t, "remove")
	if _, ok := fw.next(t, "removed"); !ok {
		t.Fatalf("forwarder helper: Remove: %s", fw.stderrText())
	}
	pa.send(t, "udp", nsPortA, []byte("after"))
	if l, _ := fw.next(t, "user"); l != fmt.Sprintf("user %v %v %x", nsPortA, nsPhoneA, "after") {
		t.Errorf("after Remove our socket got %q, want a's packet from %v", l, nsPhoneA)
	}
	time.Sleep(50 * time.Millisecond)
	if got := pb.taken("got"); len(got) != 0 {
		t.Errorf("after Remove phone b still got %v", got)
	}

	for _, p := range []*helper{pa, pb, fw} {
		p.stdin.Close() // all at once: finish waits
	}
	for _, p := range []*helper{pa, pb, fw} {
		p.finish(t)
	}
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); !bytes.Equal(b, hostFwd) {
		t.Errorf("the host's ip_forward changed: %q, was %q", b, hostFwd)
	}
	t.Logf("forwarded %d packets each way through namespaces in %v", 2*n, time.Since(start).Round(time.Millisecond))
}

func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[string]int{}
	for _, s := range want {
		m[s]++
	}
	for _, s := range got {
		if m[s]--; m[s] < 0 {
			return false
		}
	}
	return true
}

// helper is a copy of the test binary running a helper test in a
// namespace.
type helper struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	held   []string // read, not yet asked for
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func startHelper(ctx context.Context, t *testing.T, ns, name, test string, env ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{name: name, lines: make(chan string, 256), done: make(chan error, 1)}
	h.cmd = exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe, "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=10s")
	// Under -race a process waits a second before it exits, by default.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	h.cmd.Env = append(os.Environ(), append([]string{netnsHelperEnv + "=1", "GORACE=" + gorace}, env...)...)
	h.cmd.Stderr = lockedWriter{&h.mu, &h.stderr}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
		h.done <- h.cmd.Wait()
	}()
	t.Cleanup(func() {
		h.stdin.Close()
		select {
		case <-h.done:
		case <-time.After(2 * time.Second):
			_ = h.cmd.Process.Kill()
		}
	})
	return h
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (h *helper) stderrText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stderr.String()
}

func (h *helper) do(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		t.Fatalf("%s: %v: %s", h.name, err, h.stderrText())
	}
}

func (h *helper) send(t *testing.T, kind string, to netip.AddrPort, b []byte) {
	t.Helper()
	h.do(t, fmt.Sprintf("%s %v %x", kind, to, b))
}

// next returns the first line starting with one of prefixes, waiting up
// to 2 s; other lines are held for later.
func (h *helper) next(t *testing.T, prefixes ...string) (string, bool) {
	t.Helper()
	match := func(l string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				return true
			}
		}
		return false
	}
	for i, l := range h.held {
		if match(l) {
			h.held = append(h.held[:i], h.held[i+1:]...)
			return l, true
		}
	}
	timeout := time.After(2 * time.Second)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				t.Errorf("%s exited waiting for %q: %s", h.name, prefixes, h.stderrText())
				return "", false
			}
			if strings.HasPrefix(l, "error") {
				t.Errorf("%s: %s", h.name, l)
			}
			if match(l) {
				return l, true
			}
			h.held = append(h.held, l)
		case <-timeout:
			t.Errorf("%s: no %q within 2s", h.name, prefixes)
			return "", false
		}
	}
}

// taken removes and returns the lines so far starting with prefix.
func (h *helper) taken(prefix string) []string {
	for more := true; more; {
		select {
		case l, ok := <-h.lines:
			if ok {
				h.held = append(h.held, l)
			} else {
				more = false
			}
		default:
			more = false
		}
	}
	var out, rest []string
	for _, l := range h.held {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		} else {
			rest = append(rest, l)
		}
	}
	h.held = rest
	return out
}

// finish closes the helper's stdin and waits for it to pass.
func (h *helper) finish(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	for l := range h.lines {
		h.held = append(h.held, l)
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("%s: %v: %s", h.name, err, h.stderrText())
		}
		h.done <- err // for the cleanup
	case <-time.After(2 * time.Second):
		t.Errorf("%s did not exit", h.name)
	}
	for _, l := range h.held {
		if strings.HasPrefix(l, "error") {
			t.Errorf("%s: %s", h.name, l)
		}
	}
}

// lineWriter prints whole lines from several goroutines.
type lineWriter struct{ mu sync.Mutex }

func (o *lineWriter) println(args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Println(args...)
}

// TestHelperForwarder is not a test: in the PBX's namespace it opens a
// Forwarder, binds our two ports, bridges the legs in GOPBX_KFWD_LEGS
// (phone a, our port a, phone b, our port b), reports what our sockets
// receive ("user <our port> <from> <hex>"), answers "counters" and
// "remove", and closes the Forwarder at the end of its stdin.
func TestHelperForwarder(t *testing.T) {
	if os.Getenv(netnsHelperEnv) == "" {
		return
	}
	var o lineWriter
	f, err := Open(os.Getenv("GOPBX_KFWD_TABLE"))
	if err != nil {
		o.println("unavailable", err)
		return
	}
	defer func() {
		if err := f.Close(); err != nil {
			o.println("error", err)
		}
	}()
	var ap [4]netip.AddrPort
	for i, s := range strings.Fields(os.Getenv("GOPBX_KFWD_LEGS")) {
		ap[i] = netip.MustParseAddrPort(s)
	}
	a, b := Leg{Remote: ap[0], Local: ap[1]}, Leg{Remote: ap[2], Local: ap[3]}
	for _, l := range []netip.AddrPort{a.Local, b.Local} {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(l))
		if err != nil {
			o.println("unavailable", err)
			return
		}
		defer c.Close()
		go func() {
			buf := make([]byte, 2048)
			for {
				k, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				o.println("user", l, from, hex.EncodeToString(buf[:k]))
			}
		}()
	}
	br, err := f.Add(a, b)
	if err != nil {
		o.println("unavailable", err)
		return
	}
	o.println("ready")
	o.println("reachable", f.Reachable(b.Remote.Addr()))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "counters":
			cs, err := f.Counters()
			if err != nil {
				o.println("error", err)
			}
			for fl, c := range cs {
				o.println("counter", fl.From, fl.To, c)
			}
			o.println("end")
		case "remove":
			if err := f.Remove(br); err != nil {
				o.println("error", err)
			}
			o.println("removed")
		default:
			o.println("error unknown command", sc.Text())
		}
	}
}

// TestHelperPhone is not a test: in a phone's namespace it binds
// GOPBX_KFWD_BIND, reports what arrives ("got <from> <hex>"), and sends
// as told: "udp|raw|rawbad <to> <hex>" (raw: from a raw socket with the
// UDP checksum computed here, rawbad: a wrong one), "stats" reports the
// namespace's UDP InCsumErrors.
func TestHelperPhone(t *testing.T) {
	if os.Getenv(netnsHelperEnv) == "" {
		return
	}
	var o lineWriter
	bind := netip.MustParseAddrPort(os.Getenv("GOPBX_KFWD_BIND"))
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(bind))
	if err != nil {
		o.println("error", err)
		return
	}
	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		o.println("error", err)
		return
	}
	defer unix.Close(raw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			o.println("got", from, hex.EncodeToString(buf[:k]))
		}
	}()
	o.println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 && f[0] == "stats" {
			o.println("csumerrors", udpCsumErrors())
			continue
		}
		if len(f) != 3 {
			o.println("error bad command", sc.Text())
			continue
		}
		to, err1 := netip.ParseAddrPort(f[1])
		b, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			o.println("error bad command", sc.Text())
			continue
		}
		switch f[0] {
		case "udp":
			_, err = c.WriteToUDPAddrPort(b, to)
		case "raw", "rawbad":
			d := udpDatagram(bind, to, b)
			if f[0] == "rawbad" {
				d[6] ^= 0x5a
			}
			err = unix.Sendto(raw, d, 0, &unix.SockaddrInet4{Addr: to.Addr().As4()})
		default:
			err = fmt.Errorf("unknown command %q", sc.Text())
		}
		if err != nil {
			o.println("error", err)
		}
	}
	c.Close()
	<-done
}

// udpDatagram is a UDP header and payload with the checksum computed in
// software, as a raw socket sends it (so it is not offloaded).
func udpDatagram(from, to netip.AddrPort, payload []byte) []byte {
	d := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(d[0:], from.Port())
	binary.BigEndian.PutUint16(d[2:], to.Port())
	binary.BigEndian.PutUint16(d[4:], uint16(8+len(payload)))
	d = append(d, payload...)
	s, t := from.Addr().As4(), to.Addr().As4()
	pseudo := append(append(append([]byte{}, s[:]...), t[:]...), 0, unix.IPPROTO_UDP, d[4], d[5])
	var sum uint32
	for _, part := range [][]byte{pseudo, d} {
		for i := 0; i < len(part); i += 2 {
			w := uint32(part[i]) << 8
			if i+1 < len(part) {
				w |= uint32(part[i+1])
			}
			sum += w
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	cs := ^uint16(sum)
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(d[6:], cs)
	return d
}

// udpCsumErrors is Udp InCsumErrors from /proc/net/snmp (this network
// namespace's), or -1.
func udpCsumErrors() int {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "Udp: ") {
			continue
		}
		if names == nil {
			names = strings.Fields(l)
			continue
		}
		for i, v := range strings.Fields(l) {
			if i < len(names) && names[i] == "InCsumErrors" {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
	}
	return -1
}
