package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Network namespaces give a test real routing: a phone behind a NAT, an
// address the PBX cannot reach. They need root. Everything here happens
// inside namespaces the test creates (named gopbx-PID-N-ROLE, so parallel
// test processes never collide); the root namespace's links, routes and
// iptables are never touched. Addresses come from 198.18.0.0/15
// (RFC 2544 benchmarking), which is not routed anywhere.
//
// Processes run in a namespace with `ip netns exec NS prog`, which execs
// prog in place: the child's PID is the program's, so stop, kill and
// Pdeathsig work as for any other child.

// netnsRunDir is where `ip netns` keeps its namespace handles.
const netnsRunDir = "/var/run/netns"

// netnsCmdTimeout bounds each ip/iptables/sysctl command.
const netnsCmdTimeout = 10 * time.Second

// netnsPBXLifetime bounds a gopbx started in a namespace: a watchdog kills
// it (and cleanup then reports that it exited on its own) should the test
// hang past it.
const netnsPBXLifetime = 3 * time.Minute

var (
	netnsOnce sync.Once
	netnsErr  error
	netnsIP   string // path of ip
	netnsIPT  string // path of iptables
	netnsSeq  atomic.Int64

	staleNetns = regexp.MustCompile(`^gopbx-([0-9]+)-`)
)

// RequireNetns skips the test unless it can create network namespaces and
// use iptables' nat table in them (root, iproute2, iptables); with CI=true
// (CI runs as root) it fails it instead.
func RequireNetns(t testing.TB) {
	t.Helper()
	netnsOnce.Do(func() { netnsErr = probeNetns() })
	if netnsErr == nil {
		return
	}
	if InCI() {
		t.Fatalf("harness: network namespaces are not usable and CI=true: %v", netnsErr)
	}
	t.Skipf("harness: skipping, network namespaces are not usable: %v", netnsErr)
}

func probeNetns() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the test is not running as root (uid %d); ip netns and iptables need root", os.Geteuid())
	}
	var err error
	if netnsIP, err = lookTool("ip"); err != nil {
		return errors.New("ip (iproute2) is not installed")
	}
	if netnsIPT, err = lookTool("iptables"); err != nil {
		return errors.New("iptables is not installed")
	}
	removeStaleNetns()
	name := fmt.Sprintf("gopbx-%d-probe", os.Getpid())
	if out, err := runCmd(netnsIP, "netns", "add", name); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	defer runCmd(netnsIP, "netns", "delete", name)
	if out, err := runCmd(netnsIP, "netns", "exec", name, netnsIPT, "-t", "nat", "-L", "-n"); err != nil {
		return fmt.Errorf("iptables -t nat in a namespace: %v: %s", err, out)
	}
	return nil
}

// removeStaleNetns deletes namespaces left by test processes that were
// killed before their cleanup ran (go test -timeout): gopbx-PID-… whose
// PID no longer exists.
func removeStaleNetns() {
	entries, err := os.ReadDir(netnsRunDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleNetns.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_, _ = runCmd(netnsIP, "netns", "delete", e.Name())
		}
	}
}

// runCmd runs argv bounded by netnsCmdTimeout and returns its combined
// output.
func runCmd(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.WaitDelay = time.Second
	out, err := c.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", netnsCmdTimeout, err)
	}
	return strings.TrimSpace(string(out)), err
}

// Netns is a network namespace owned by one test.
type Netns struct {
	// Name is the namespace's name for `ip netns`.
	Name string
}

// NewNetns creates a namespace named gopbx-PID-N-role with lo up. Cleanup
// kills whatever still runs in it and deletes it, which deletes its veths.
func NewNetns(t testing.TB, role string) *Netns {
	t.Helper()
	RequireNetns(t)
	ns := &Netns{Name: fmt.Sprintf("gopbx-%d-%d-%s", os.Getpid(), netnsSeq.Add(1), role)}
	if out, err := runCmd(netnsIP, "netns", "add", ns.Name); err != nil {
		t.Fatalf("harness: ip netns add %s: %v: %s", ns.Name, err, out)
	}
	t.Cleanup(func() { ns.destroy(t) })
	ns.MustRun(t, netnsIP, "link", "set", "lo", "up")
	return ns
}

func (ns *Netns) destroy(t testing.TB) {
	// Processes stop in their own cleanups, which run first; anything
	// still here was started by this test and would keep the namespace.
	if out, err := runCmd(netnsIP, "netns", "pids", ns.Name); err == nil {
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil {
				t.Logf("harness: killing process %d left in namespace %s", pid, ns.Name)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if out, err := runCmd(netnsIP, "netns", "delete", ns.Name); err != nil {
		t.Errorf("harness: ip netns delete %s: %v: %s", ns.Name, err, out)
	}
}

// Command returns argv prefixed to run inside the namespace.
func (ns *Netns) Command(argv ...string) []string {
	return append([]string{netnsIP, "netns", "exec", ns.Name}, argv...)
}

// Run runs argv inside the namespace (bounded to 10 s) and returns its
// combined output.
func (ns *Netns) Run(argv ...string) (string, error) {
	return runCmd(ns.Command(argv...)...)
}

// MustRun is Run failing the test on an error.
func (ns *Netns) MustRun(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := ns.Run(argv...)
	if err != nil {
		t.Fatalf("harness: in %s: %s: %v: %s", ns.Name, strings.Join(argv, " "), err, out)
	}
	return out
}

// Do runs fn on an OS thread that has entered the namespace, so the
// sockets fn opens belong to it; they keep working from any goroutine
// afterwards. Goroutines fn starts run outside the namespace. fn must not
// call t.Fatal.
//
// The thread returns to its namespace afterwards and lives on. It must:
// children get Pdeathsig, which fires when the *thread* that forked them
// exits, and Go may have forked one on this very thread earlier. Only if
// the way back fails is the thread left locked, for Go to discard.
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("harness: netns: %w", err)
			return
		}
		defer home.Close()
		f, err := os.Open(filepath.Join(netnsRunDir, ns.Name))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("harness: netns %s: %w", ns.Name, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("harness: setns %s: %w", ns.Name, err)
			return
		}
		err = fn()
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// NATNetwork is a phone behind a masquerading router, and a PBX on the
// router's public side that has no route back to the phone's private
// network: a packet from the PBX reaches the phone only through the NAT's
// mapping.
//
//	phone 198.18.10.2/24 (default via .1)
//	  | eth0 <-> priv0
//	router 198.18.10.1 / 198.19.10.1, ip_forward=1,
//	  |        MASQUERADE out of pub0 (UDP source ports -> 40000-40999)
//	  | pub0 <-> eth0
//	pbx 198.19.10.2/24 (no other route)
//
// The NAT maps UDP source ports into MappedPortMin..MappedPortMax, so a
// peer that answers the phone's Contact port instead of the mapped source
// port fails as it would behind most real NATs.
type NATNetwork struct {
	Phone, Router, PBX *Netns

	PhoneIP         string // private
	RouterPrivateIP string // the phone's gateway
	RouterPublicIP  string // the address the NAT masquerades as
	PBXIP           string
}

// The UDP port range the NAT maps phone source ports to.
const (
	MappedPortMin = 40000
	MappedPortMax = 40999
)

// NewNATNetwork builds the three namespaces and checks the topology: the
// phone reaches the PBX, the PBX has no route to the phone's address.
func NewNATNetwork(t testing.TB) *NATNetwork {
	t.Helper()
	RequireNetns(t)
	n := &NATNetwork{
		Phone: NewNetns(t, "phone"), Router: NewNetns(t, "router"), PBX: NewNetns(t, "pbx"),
		PhoneIP: "198.18.10.2", RouterPrivateIP: "198.18.10.1",
		RouterPublicIP: "198.19.10.1", PBXIP: "198.19.10.2",
	}
	ip := func(ns *Netns, args ...string) {
		t.Helper()
		ns.MustRun(t, append([]string{netnsIP}, args...)...)
	}
	// Each veth is created inside a namespace with its peer moved straight
	// into the other one, so it never appears in the root namespace.
	ip(n.Phone, "link", "add", "eth0", "type", "veth", "peer", "name", "priv0", "netns", n.Router.Name)
	ip(n.Router, "link", "add", "pub0", "type", "veth", "peer", "name", "eth0", "netns", n.PBX.Name)

	ip(n.Phone, "addr", "add", n.PhoneIP+"/24", "dev", "eth0")
	ip(n.Phone, "link", "set", "eth0", "up")
	ip(n.Phone, "route", "add", "default", "via", n.RouterPrivateIP)

	ip(n.Router, "addr", "add", n.RouterPrivateIP+"/24", "dev", "priv0")
	ip(n.Router, "addr", "add", n.RouterPublicIP+"/24", "dev", "pub0")
	ip(n.Router, "link", "set", "priv0", "up")
	ip(n.Router, "link", "set", "pub0", "up")
	n.Router.MustRun(t, "sysctl", "-w", "net.ipv4.ip_forward=1")
	ports := fmt.Sprintf("%d-%d", MappedPortMin, MappedPortMax)
	n.Router.MustRun(t, netnsIPT, "-t", "nat", "-A", "POSTROUTING", "-o", "pub0", "-p", "udp", "-j", "MASQUERADE", "--to-ports", ports)
	n.Router.MustRun(t, netnsIPT, "-t", "nat", "-A", "POSTROUTING", "-o", "pub0", "-j", "MASQUERADE")

	ip(n.PBX, "addr", "add", n.PBXIP+"/24", "dev", "eth0")
	ip(n.PBX, "link", "set", "eth0", "up")

	if out, err := n.PBX.Run(netnsIP, "route", "get", n.PhoneIP); err == nil {
		t.Fatalf("harness: the pbx namespace has a route to the phone's private address %s (%s); the NAT test would prove nothing", n.PhoneIP, out)
	}
	// A TCP connect that is refused proves the path phone -> NAT -> pbx.
	err := n.Phone.Do(func() error {
		c, err := net.DialTimeout("tcp4", HostPort(n.PBXIP, 9), 3*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("harness: phone %s cannot reach the pbx %s through the NAT: %v (want connection refused)", n.PhoneIP, n.PBXIP, err)
	}
	return n
}

// StartPBXInNetns is StartPBX for a gopbx inside ns: opts.IP is an
// address of ns (not loopback). gopbx and every Console command run under
// `ip netns exec`; the readiness OPTIONS is sent from inside ns. Restart
// starts it in ns again but does not wait for readiness.
func StartPBXInNetns(t testing.TB, ns *Netns, opts PBXOptions) *PBX {
	t.Helper()
	RequireNetns(t)
	bin := Binary(t)
	if opts.IP == "" {
		t.Fatal("harness: PBXOptions.IP is required")
	}
	if opts.Port == 0 {
		opts.Port = 5060
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	ready := opts.ReadyTransport
	if ready == "" {
		ready = "udp"
	}
	opts.ReadyTransport = "none" // checked below, from inside ns
	base := t.TempDir()
	// The PBX runs p.bin for the server and for the console, so a wrapper
	// puts both in the namespace.
	wrapper := filepath.Join(base, "gopbx-in-netns")
	script := "#!/bin/sh\nexec " + shellQuote(netnsIP) + " netns exec " + shellQuote(ns.Name) + " " + shellQuote(bin) + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &PBX{t: t, bin: wrapper, opts: opts}
	if len(opts.Files) > 0 {
		p.confDir = filepath.Join(base, "conf")
		if err := os.MkdirAll(p.confDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range opts.Files {
			p.WriteConfig(t, name, content)
		}
	}
	p.dataDir = opts.DataDir
	if p.dataDir == "" {
		p.dataDir = filepath.Join(base, "data")
		if err := os.MkdirAll(p.dataDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.logPath = filepath.Join(base, "gopbx.log")
	dumpOnFailure(t, "gopbx ("+ns.Name+")", p.logPath)
	t.Cleanup(func() { p.cleanup() })
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(netnsPBXLifetime, func() { p.Kill(t) })
	t.Cleanup(func() { watchdog.Stop() })
	if ready == "none" {
		return p
	}
	p.mu.Lock()
	pr := p.proc
	p.mu.Unlock()
	err := ns.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), opts.ReadyTimeout)
		defer cancel()
		return waitSIP(ctx, ready, opts.IP, p.Addr(), pr.done)
	})
	if err != nil {
		if pr.exited() {
			pr.mu.Lock()
			pr.stopping = true // reported here, not again by cleanup
			pr.mu.Unlock()
			t.Fatalf("harness: gopbx in %s exited during startup (%v): %v", ns.Name, pr.err, err)
		}
		t.Fatalf("harness: gopbx in %s not ready within %v: %v", ns.Name, opts.ReadyTimeout, err)
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// StartBaresipInNetns is StartBaresip for a baresip inside ns: opts.IP is
// an address of ns and Domain is any "ip:port" the namespace can reach.
// The control socket is opened from inside ns.
func StartBaresipInNetns(t testing.TB, ns *Netns, opts BaresipOptions) *Baresip {
	t.Helper()
	RequireNetns(t)
	return startBaresip(t, opts, ns)
}

// StartSIPpInNetns is StartSIPp for a SIPp inside ns: LocalIP is an
// address of ns and Remote any address it can reach. LocalPort defaults to
// 5060; give each SIPp in one namespace its own.
func StartSIPpInNetns(t testing.TB, ns *Netns, opts SIPpOptions) *SIPp {
	t.Helper()
	RequireNetns(t)
	return startSIPp(t, opts, ns)
}

// Forward adds a port forward on the router: UDP packets to the public
// address on ports ("5060" or "10000:10099") go to the host behind the NAT
// (DNAT), as an administrator does for a PBX on a private network.
func (n *NATNetwork) Forward(t testing.TB, ports string) {
	t.Helper()
	n.Router.MustRun(t, netnsIPT, "-t", "nat", "-A", "PREROUTING", "-i", "pub0", "-p", "udp", "--dport", ports, "-j", "DNAT", "--to-destination", n.PhoneIP)
}
