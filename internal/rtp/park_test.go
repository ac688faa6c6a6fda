package rtp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// parkIP is the loopback address of these tests, used nowhere else.
var parkIP = netip.MustParseAddr("127.0.171.1")

func peerSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: parkIP.AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rtpBytes(t *testing.T, pt uint8, seq uint16) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, SSRC: 9}, Payload: make([]byte, 20)}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// queued reports whether a datagram waits on fd.
func queued(fd int) bool {
	var b [1]byte
	_, _, err := unix.Recvfrom(fd, b[:], unix.MSG_DONTWAIT|unix.MSG_PEEK)
	return err == nil
}

// TestParkedPairReuse: a closed session's pair is parked, not handed out
// again before the quarantine, handed out after it with what the old
// call's peer sent meanwhile drained from both sockets, and the new
// session receives and sends on it. Whether the old session was started
// (its pair registered with the poller, which drops what comes while it
// is parked) or not (datagrams stay queued) the stale packet must not
// arrive.
func TestParkedPairReuse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		started bool
		start   int
	}{
		{"started", true, 36100},
		{"never started", false, 36200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t, tc.start, tc.start+99)
			a.Quarantine = 300 * time.Millisecond
			old, err := a.Open(parkIP)
			if err != nil {
				t.Fatal(err)
			}
			if tc.started {
				old.Start()
			}
			port := old.Local()
			old.Close()
			if n, p := a.InUse(parkIP), a.Parked(parkIP); n != 0 || p != 1 {
				t.Fatalf("after Close: InUse %d Parked %d, want 0 and 1", n, p)
			}
			closedAt := time.Now()

			early, err := a.Open(parkIP)
			if err != nil {
				t.Fatal(err)
			}
			if early.Local() == port {
				t.Fatalf("pair %v reused right after Close, before its quarantine", port)
			}
			defer early.Close()

			peer := peerSocket(t)
			stale := rtpBytes(t, 99, 1)
			peer.WriteToUDPAddrPort(stale, port)
			peer.WriteToUDPAddrPort([]byte("stale rtcp"), netip.AddrPortFrom(port.Addr(), port.Port()+1))

			time.Sleep(time.Until(closedAt.Add(a.Quarantine)))
			s, err := a.Open(parkIP)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Local() != port {
				t.Fatalf("Open after the quarantine: %v, want the parked pair %v", s.Local(), port)
			}
			if n, p := a.InUse(parkIP), a.Parked(parkIP); n != 2 || p != 0 {
				t.Fatalf("after reuse: InUse %d Parked %d, want 2 and 0", n, p)
			}
			if queued(s.pair.fd) || queued(s.pair.rtcpFD) {
				t.Fatal("a datagram of the old call is still queued on the reused pair")
			}

			var stales, fresh atomic.Int32
			s.SetHandler(func(p *rtp.Packet, raw []byte) {
				if p.PayloadType == 99 {
					stales.Add(1)
				} else {
					fresh.Add(1)
				}
			})
			s.Start()
			for i := range 3 {
				peer.WriteToUDPAddrPort(rtpBytes(t, 0, uint16(i)), port)
			}
			deadline := time.Now().Add(2 * time.Second)
			for fresh.Load() < 3 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if fresh.Load() != 3 || stales.Load() != 0 {
				t.Fatalf("handler saw %d new and %d stale packets, want 3 and 0", fresh.Load(), stales.Load())
			}
			if err := s.Send(8, false, []byte{1, 2, 3}, 160); err != nil {
				t.Fatal(err)
			}
			peer.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 1500)
			n, from, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("nothing sent back from the reused pair: %v", err)
			}
			var back rtp.Packet
			if err := back.Unmarshal(buf[:n]); err != nil || back.SSRC != s.SSRC() || from != port {
				t.Fatalf("got %+v from %v (err %v), want SSRC %d from %v", back.Header, from, err, s.SSRC(), port)
			}
			if err := old.Send(0, false, []byte{1}, 160); err != nil {
				t.Errorf("Send on the old session: %v, want a silent no-op", err)
			}
			peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := peer.Read(buf); err == nil {
				t.Error("the old session sent on the socket it gave up")
			}
		})
	}
}

// TestParkBound: past MaxParked, a closed session's sockets are closed
// and its ports freed; the pairs parked first stay, as they are the
// nearest to reuse.
func TestParkBound(t *testing.T) {
	a := newAlloc(t, 36300, 36399)
	a.MaxParked = 2
	var ss []*Session
	for range 3 {
		s, err := a.Open(parkIP)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		ss = append(ss, s)
	}
	for _, s := range ss {
		s.Close()
	}
	if p, n := a.Parked(parkIP), a.InUse(parkIP); p != 2 || n != 0 {
		t.Fatalf("Parked %d InUse %d, want 2 and 0", p, n)
	}
	bindable := func(ap netip.AddrPort) bool {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	for i, s := range ss {
		want := i == 2 // only the last one closed went
		if got := bindable(s.Local()); got != want {
			t.Errorf("session %d's port %v bindable: %v, want %v", i, s.Local(), got, want)
		}
	}
}

// TestAllocatorCloseClosesParked: parked sockets, and the pollers, are
// closed by Allocator.Close.
func TestAllocatorCloseClosesParked(t *testing.T) {
	// The runtime's own descriptors (netpoll) exist before counting.
	peer := peerSocket(t)
	before := openFDs(t)
	a, err := NewAllocator(36400, 36499)
	if err != nil {
		t.Fatal(err)
	}
	a.Quarantine = time.Hour
	var ss []*Session
	for i := range 10 {
		s, err := a.Open(parkIP)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Start()
		}
		peer.WriteToUDPAddrPort(rtpBytes(t, 0, 1), s.Local())
		ss = append(ss, s)
	}
	for _, s := range ss {
		s.Close()
	}
	if a.Parked(parkIP) != 10 {
		t.Fatalf("Parked %d, want 10", a.Parked(parkIP))
	}
	if got := openFDs(t); got < before+20 {
		t.Fatalf("%d descriptors open with 10 pairs parked, want at least %d", got, before+20)
	}
	a.Close()
	if got := openFDs(t); got != before {
		t.Fatalf("%d descriptors open after Allocator.Close, want %d as before", got, before)
	}
	if a.Parked(parkIP) != 0 {
		t.Fatalf("Parked %d after Close", a.Parked(parkIP))
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestOpenShedsParkedOnEMFILE: out of descriptors, Open closes parked
// pairs rather than fail.
func TestOpenShedsParkedOnEMFILE(t *testing.T) {
	a := newAlloc(t, 36500, 36599)
	a.Quarantine = time.Hour // parked pairs are not reusable
	var ss []*Session
	for range 4 {
		s, err := a.Open(parkIP)
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	for _, s := range ss {
		s.Close()
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	low := lim
	low.Cur = uint64(openFDs(t) + 1) // (the count includes ReadDir's own) room for one pair
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	var live []*Session
	var openErr error
	for range 3 {
		s, err := a.Open(parkIP)
		if err != nil {
			openErr = err
			break
		}
		live = append(live, s)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	for _, s := range live {
		s.Close()
	}
	if openErr != nil {
		t.Fatalf("Open with parked pairs and no descriptors left: %v", openErr)
	}
	// 4 parked, some shed for the Opens, then the 3 parked back.
	if p := a.Parked(parkIP); p >= 4+3 {
		t.Fatalf("Parked %d: nothing was shed", p)
	}
}

// TestParkRace hammers Open, Start, Send and Close with immediate reuse
// while a peer sprays the range, for the race detector: the poller reads
// pairs as they are parked, reused and closed, and some Closes race their
// session's Start.
func TestParkRace(t *testing.T) {
	a := newAlloc(t, 36600, 36619) // 10 pairs: reuse all the time
	a.Quarantine = 0
	a.MaxParked = 6 // and close some
	peer := peerSocket(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pkt := rtpBytes(t, 0, 1)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for p := 36600; p < 36620; p++ {
				peer.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(parkIP, uint16(p)))
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var opened, got atomic.Int32
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 200 {
				s, err := a.Open(parkIP)
				if errors.Is(err, ErrNoPorts) {
					time.Sleep(100 * time.Microsecond)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				opened.Add(1)
				s.SetHandler(func(p *rtp.Packet, raw []byte) { got.Add(1) })
				s.SetRemote(peer.LocalAddr().(*net.UDPAddr).AddrPort())
				if (i+w)%5 == 0 {
					done := make(chan struct{})
					go func() { s.Close(); close(done) }()
					s.Start()
					<-done
					continue
				}
				s.Start()
				_ = s.Send(0, false, []byte{1}, 160)
				time.Sleep(200 * time.Microsecond)
				s.Close()
			}
		}()
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d sessions, %d packets delivered", opened.Load(), got.Load())
	if opened.Load() < 100 || got.Load() == 0 {
		t.Errorf("%d sessions opened, %d packets delivered: the test did not exercise reuse", opened.Load(), got.Load())
	}
	if n := a.InUse(parkIP); n != 0 {
		t.Fatalf("InUse %d after every session closed", n)
	}
}

// TestFIFO checks the parked ring against a slice, growth while wrapped
// included.
func TestFIFO(t *testing.T) {
	var q fifo
	var model []*portPair
	rnd := uint64(1)
	for step := range 2000 {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		if rnd>>62 != 0 || len(model) == 0 { // push 3 times in 4
			pp := &portPair{n: step}
			q.push(pp)
			model = append(model, pp)
		} else {
			if got := q.pop(); got != model[0] {
				t.Fatalf("step %d: popped %d, want %d", step, got.n, model[0].n)
			}
			model = model[1:]
		}
		if q.len() != len(model) || (len(model) > 0 && q.front() != model[0]) {
			t.Fatalf("step %d: len %d, want %d", step, q.len(), len(model))
		}
	}
}

// TestExpireParked: pairs parked for longer than MaxParkedAge are closed
// (their ports bindable again), younger ones stay.
func TestExpireParked(t *testing.T) {
	a := newAlloc(t, 36700, 36799)
	s1, err := a.Open(parkIP)
	if err != nil {
		t.Fatal(err)
	}
	s1.Close()
	if a.Parked(parkIP) != 1 {
		t.Fatalf("Parked %d, want 1", a.Parked(parkIP))
	}
	if n := a.Expire(time.Now()); n != 0 {
		t.Fatalf("Expire closed %d young pairs, want 0", n)
	}
	if n := a.Expire(time.Now().Add(MaxParkedAge + time.Second)); n != 1 {
		t.Fatalf("Expire closed %d old pairs, want 1", n)
	}
	if p := a.Parked(parkIP); p != 0 {
		t.Fatalf("Parked %d after Expire, want 0", p)
	}
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(s1.Local()))
	if err != nil {
		t.Fatalf("expired pair's port not free: %v", err)
	}
	c.Close()
}
