package harness

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Each test owns the loopback addresses it uses, so every port on them is
// free for it. claims records who took which address in this process;
// a lock file per address (flock, dropped when the process dies) keeps two
// test processes (go test runs packages in parallel) apart.
var (
	claimMu  sync.Mutex
	claims   = map[netip.Addr]string{} // address -> test name, never deleted
	locks    = map[netip.Addr]*addrLock{}
	nextAuto = netip.MustParseAddr("127.2.0.0")
)

// autoPrefix is the block NextIP hands out from; fixed addresses passed to
// IP should stay out of it.
var autoPrefix = netip.MustParsePrefix("127.2.0.0/16")

// lockWait bounds how long a claim waits for another test process to free
// an address.
const lockWait = 2 * time.Minute

// IP claims the loopback address ip (127.0.0.0/8) for the calling test and
// returns it. Claiming an address another test in this process claimed is
// a test bug and fails the test; the same test may claim it again (-count).
func IP(t testing.TB, ip string) string {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(a) {
		t.Fatalf("harness: IP %q: tests may only use IPv4 loopback addresses (127.0.0.0/8)", ip)
	}
	if a == netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("harness: IP 127.0.0.1 is shared by everything on the host; pick a 127.x.y.z of the test's own")
	}
	claimMu.Lock()
	owner, taken := claims[a]
	if taken && owner != t.Name() {
		claimMu.Unlock()
		t.Fatalf("harness: IP %s is already claimed by %s; give each test its own address", a, owner)
	}
	claims[a] = t.Name()
	claimMu.Unlock()
	lockAddr(t, a, lockWait)
	return a.String()
}

// NextIP claims a fresh loopback address from 127.2.0.0/16 for the calling
// test. Addresses free in this process but held by another test process
// are passed over.
func NextIP(t testing.TB) string {
	t.Helper()
	for {
		claimMu.Lock()
		var a netip.Addr
		for {
			nextAuto = nextAuto.Next()
			if !autoPrefix.Contains(nextAuto) {
				claimMu.Unlock()
				t.Fatal("harness: NextIP ran out of addresses in 127.2.0.0/16")
			}
			b := nextAuto.As4()
			if b[3] == 0 || b[3] == 255 {
				continue
			}
			if _, taken := claims[nextAuto]; !taken {
				a = nextAuto
				claims[a] = t.Name()
				break
			}
		}
		claimMu.Unlock()
		if lockAddr(t, a, 0) {
			return a.String()
		}
	}
}

// lockAddr takes the cross-process lock of a, waiting up to wait. With
// wait 0 it reports false when the lock is busy; otherwise a timeout fails
// the test. The lock is released when the test ends.
func lockAddr(t testing.TB, a netip.Addr, wait time.Duration) bool {
	t.Helper()
	// flock locks belong to an open file, so a second open in this process
	// would conflict with the first: count holders instead.
	claimMu.Lock()
	if l := locks[a]; l != nil {
		l.n++
		claimMu.Unlock()
		t.Cleanup(func() { unlockAddr(a) })
		return true
	}
	claimMu.Unlock()
	dir := filepath.Join(os.TempDir(), "gopbx-test-ips")
	if err := os.MkdirAll(dir, 0o1777); err != nil {
		t.Fatalf("harness: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, a.String()+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			t.Fatalf("harness: lock %s: %v", a, err)
		}
		if wait == 0 {
			f.Close()
			return false
		}
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("harness: IP %s is held by another test process for more than %v", a, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	claimMu.Lock()
	locks[a] = &addrLock{f: f, n: 1}
	claimMu.Unlock()
	t.Cleanup(func() { unlockAddr(a) })
	return true
}

type addrLock struct {
	f *os.File
	n int
}

func unlockAddr(a netip.Addr) {
	claimMu.Lock()
	defer claimMu.Unlock()
	l := locks[a]
	if l == nil {
		return
	}
	if l.n--; l.n == 0 {
		l.f.Close()
		delete(locks, a)
	}
}

// FreePort returns a port that is free for both UDP and TCP on ip.
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("harness: free port on %s: %v", ip, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatalf("harness: no port free for both UDP and TCP on %s", ip)
	return 0
}

// HostPort joins ip and port.
func HostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

func mustLoopback(t testing.TB, what, hostport string) {
	t.Helper()
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !netip.MustParsePrefix("127.0.0.0/8").Contains(a) {
		t.Fatalf("harness: %s %q is not an IPv4 loopback address (127.0.0.0/8)", what, hostport)
	}
}
