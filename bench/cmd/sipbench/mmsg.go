package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batched UDP I/O for the RTP generator: one sendmmsg/recvmmsg moves up to
// mmsgBatch datagrams, so the generator's syscall count stays far below
// gopbx's one per packet and the cores go to the server under test.
//
// The sockets are plain descriptors driven by system calls of their own,
// not net.UDPConns in Go's network poller: a socket in the poller is on
// epoll's wait queue for good, so the kernel runs epoll's wake-up callback
// (a spinlock with interrupts off) for every datagram queued to it and for
// every datagram it sent when that is freed, a few percent of the
// generator's CPU at 100,000 packets/s a socket. A reader here is on its
// socket's wait queue only while it sleeps in recvmmsg (see rtpSide.read).

const mmsgBatch = 64

// A blocked recvmmsg or sendmmsg gives up after sockTimeout so that a
// reader or sender notices that its side was closed.
const sockTimeout = 100 * time.Millisecond

var errSockClosed = errors.New("socket shut down")

// listenUDP binds a UDP socket on addr with SO_REUSEPORT and large buffers
// (SO_RCVBUFFORCE when root; otherwise up to net.core.rmem_max).
func listenUDP(addr netip.AddrPort) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, err
	}
	err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], 8<<20) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], 8<<20)
		}
	}
	tv := unix.NsecToTimeval(sockTimeout.Nanoseconds())
	for _, o := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
		if err == nil {
			err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, o, &tv)
		}
	}
	if err == nil && !addr.Addr().Is4() {
		err = errors.New("not an IPv4 address")
	}
	if err == nil {
		err = unix.Bind(fd, &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()})
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	return fd, nil
}

// mmsgConn batches datagrams on one socket. Not safe for concurrent use:
// each sender and each reader owns its own.
type mmsgConn struct {
	fd    uintptr
	hdrs  [mmsgBatch]unix.Mmsghdr
	iovs  [mmsgBatch]unix.Iovec
	names [mmsgBatch]unix.RawSockaddrInet4
	bufs  [mmsgBatch][]byte
	n     int // queued for sending

	// A loopback sender (see openLoopback) writes whole frames: the
	// datagram goes at frameHdr in each buffer, after headers from src.
	src  netip.AddrPort
	off  int
	ipID uint16
}

func newMmsgConn(fd int, bufSize int) *mmsgConn {
	m := &mmsgConn{fd: uintptr(fd)}
	mem := make([]byte, mmsgBatch*bufSize)
	for i := range m.hdrs {
		m.bufs[i] = mem[i*bufSize : (i+1)*bufSize : (i+1)*bufSize]
		m.iovs[i].Base = &m.bufs[i][0]
		m.iovs[i].SetLen(bufSize)
		m.hdrs[i].Hdr.Iov = &m.iovs[i]
		m.hdrs[i].Hdr.SetIovlen(1)
	}
	return m
}

// newFrameConn is a sender on a loopback packet socket (openLoopback) of
// datagrams from src of up to size bytes.
func newFrameConn(fd int, src netip.AddrPort, size int) *mmsgConn {
	m := newMmsgConn(fd, frameHdr+size)
	m.src, m.off = src, frameHdr
	return m
}

// next returns the buffer of the next queued datagram; the caller fills
// it and passes its destination (IPv4) and length to queue.
func (m *mmsgConn) next() []byte { return m.bufs[m.n][m.off:] }

// payloads are the datagram buffers, to fill what every datagram shares.
func (m *mmsgConn) payloads() [][]byte {
	out := make([][]byte, len(m.bufs))
	for i, b := range m.bufs {
		out[i] = b[m.off:]
	}
	return out
}

func (m *mmsgConn) queue(dst netip.AddrPort, n int) {
	if m.off > 0 {
		m.frame(dst, n)
		m.iovs[m.n].SetLen(m.off + n)
		m.n++
		return
	}
	sa := &m.names[m.n]
	sa.Family = unix.AF_INET
	p := dst.Port()
	sa.Port = p<<8 | p>>8 // network byte order
	sa.Addr = dst.Addr().As4()
	h := &m.hdrs[m.n].Hdr
	h.Name = (*byte)(unsafe.Pointer(sa))
	h.Namelen = unix.SizeofSockaddrInet4
	m.iovs[m.n].SetLen(n)
	m.n++
}

func (m *mmsgConn) full() bool { return m.n == mmsgBatch }

// flush sends what is queued and returns how many datagrams went out.
func (m *mmsgConn) flush() int {
	sent, full := 0, 0
	for sent < m.n {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, m.fd, uintptr(unsafe.Pointer(&m.hdrs[sent])), uintptr(m.n-sent), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e == unix.EAGAIN && full < 10 {
			full++ // the send buffer stayed full for sockTimeout
			continue
		}
		if e != 0 || r == 0 {
			break // socket shut down or a hard error: drop the rest
		}
		sent += int(r)
	}
	m.n = 0
	return sent
}

// recv returns the RTP datagrams (version 2, at least a header long) of
// a batch, cut to the buffer size, and how many datagrams the batch had;
// each is valid until the next recv. With wait it waits up to sockTimeout
// for the first datagram; otherwise it returns none if none is queued.
func (m *mmsgConn) recv(out [][]byte, wait bool) ([][]byte, int, error) {
	// MSG_TRUNC: each length is the datagram's, however much was copied.
	flags := uintptr(unix.MSG_TRUNC | unix.MSG_DONTWAIT)
	if wait {
		flags = unix.MSG_TRUNC | unix.MSG_WAITFORONE
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, m.fd, uintptr(unsafe.Pointer(&m.hdrs[0])), mmsgBatch, flags, 0, 0)
	out = out[:0]
	switch {
	case e == unix.EAGAIN || e == unix.EINTR:
		return out, 0, nil
	case e != 0:
		return out, 0, e
	case r == 0:
		return out, 0, errSockClosed
	}
	for i := 0; i < int(r); i++ {
		if n := int(m.hdrs[i].Len); n >= 12 && m.bufs[i][0]>>6 == 2 {
			out = append(out, m.bufs[i][:min(n, len(m.bufs[i]))])
		}
	}
	return out, int(r), nil
}

// ---- Sending through the loopback device ----
//
// A datagram sent on a UDP socket costs the sender the whole way out of
// the stack: route lookup, IP header, the output and postrouting hooks
// (the chains of every nftables table on the machine), neighbour output;
// only then does it reach the loopback device, whose receive side
// (prerouting, gopbx's in-kernel forwarding, input, the receiving socket)
// runs in the sender's context too. The generator stands for phones on
// other hosts, whose packets come in from a device and never pass the
// output hooks; so when every destination is on loopback and it may, it
// writes each datagram with its Ethernet, IPv4 and UDP headers straight to
// the loopback device through a packet socket. From the device on, the
// kernel does what it did with the UDP socket's packet.
//
// Measured on the 2-core test machine, this saves about 15% of the
// generator's CPU, more when other nftables tables are loaded (each hooked
// chain runs for every packet).
//
// Two settings of the loopback device let such packets in: route_localnet
// (127/8 is not martian) and accept_local (a source that is a local
// address is not martian). Neither changes anything for packets sent
// through the stack, which reach the loopback device with their route
// attached. The generator turns them on while it streams and restores them
// afterwards (a sipbench killed meanwhile leaves them on, and the next one
// restores them); if it cannot (not root), or SIPBENCH_RTP_UDP is set, it
// sends on its UDP sockets.

// A frame is a virtio header (see frame), Ethernet, IPv4 and UDP headers
// and the datagram.
const (
	vnetHdr  = 10
	frameHdr = vnetHdr + 14 + 20 + 8
)

// openLoopback opens a packet socket that sends on the loopback device and
// receives nothing (protocol 0).
func openLoopback(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	}
	err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1)
	tv := unix.NsecToTimeval(sockTimeout.Nanoseconds())
	if err == nil {
		err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	}
	if err == nil {
		err = unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifindex})
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// loopbackInject turns on what packets written to the loopback device
// need; sides that stream share it, the last one out restores it. Other
// sipbench processes (a benchmark, a go test) may do the same meanwhile:
// they share a lock file holding the settings to restore, each holds it
// shared while it injects, and the one that finds itself alone when done
// restores them.
var loopbackInject loopbackState

type loopbackState struct {
	sync.Mutex
	users   int
	ifindex int      // 0: cannot inject
	lock    *os.File // held shared while injecting
}

var loopbackLockPath = filepath.Join(os.TempDir(), "sipbench-loopback.lock")

// acquireLoopback returns the loopback device's index if the generator
// may write to it, else 0; either way releaseLoopback must follow.
func acquireLoopback() int {
	li := &loopbackInject
	li.Lock()
	defer li.Unlock()
	li.users++
	if li.users > 1 {
		return li.ifindex
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	var lo *net.Interface
	for i := range ifs {
		if ifs[i].Flags&net.FlagLoopback != 0 && ifs[i].Flags&net.FlagUp != 0 {
			lo = &ifs[i]
			break
		}
	}
	if lo == nil {
		return 0
	}
	fd, err := openLoopback(lo.Index)
	if err != nil {
		return 0 // no CAP_NET_RAW
	}
	unix.Close(fd)
	f, err := os.OpenFile(loopbackLockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX) != nil {
		f.Close()
		return 0
	}
	// The lock file lists "path old-value" for each setting changed by
	// whoever changed it first and has not restored it yet.
	saved, _ := io.ReadAll(f)
	for _, k := range []string{"route_localnet", "accept_local"} {
		path := "/proc/sys/net/ipv4/conf/" + lo.Name + "/" + k
		old, err := os.ReadFile(path)
		if err == nil && strings.TrimSpace(string(old)) == "0" {
			if err = os.WriteFile(path, []byte("1\n"), 0o644); err == nil && !strings.Contains(string(saved), path+" ") {
				_, err = fmt.Fprintf(f, "%s %s\n", path, strings.TrimSpace(string(old)))
			}
		}
		if err != nil {
			loopbackRestore(f)
			f.Close()
			return 0
		}
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_SH) != nil {
		f.Close()
		return 0
	}
	li.lock, li.ifindex = f, lo.Index
	return li.ifindex
}

func releaseLoopback() {
	li := &loopbackInject
	li.Lock()
	defer li.Unlock()
	if li.users--; li.users > 0 || li.lock == nil {
		return
	}
	if unix.Flock(int(li.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		loopbackRestore(li.lock) // no other process is injecting
	}
	li.lock.Close()
	li.lock, li.ifindex = nil, 0
}

// loopbackRestore puts back the settings f lists and empties it.
func loopbackRestore(f *os.File) {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if path, old, ok := strings.Cut(l, " "); ok && strings.HasPrefix(path, "/proc/sys/net/ipv4/conf/") {
			_ = os.WriteFile(path, []byte(old+"\n"), 0o644)
		}
	}
	_ = f.Truncate(0)
	_, _ = f.Seek(0, io.SeekStart)
}

// frame writes the headers of queued datagram m.n, n bytes to dst. The
// UDP checksum is left to the device, as the UDP socket leaves it: the
// virtio header says where it goes and the field holds the pseudo-header
// sum, so the packet enters the stack with a partial checksum (which the
// loopback device never completes and the receiver trusts), exactly as a
// UDP socket's datagram does. (A checksum of 0, "none", would not do:
// gopbx's in-kernel forwarding fixes up the field when it rewrites a port,
// checksum or not.)
func (m *mmsgConn) frame(dst netip.AddrPort, n int) {
	b := m.bufs[m.n]
	// struct virtio_net_hdr, little-endian: needs checksum, no GSO,
	// header length, GSO size, checksum start and offset.
	v := b[:vnetHdr]
	v[0], v[1] = 1, 0 // VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE
	binary.LittleEndian.PutUint16(v[2:], frameHdr-vnetHdr)
	binary.LittleEndian.PutUint16(v[4:], 0)
	binary.LittleEndian.PutUint16(v[6:], 14+20)
	binary.LittleEndian.PutUint16(v[8:], 6)
	eth := b[vnetHdr : vnetHdr+14]
	clear(eth[:12]) // loopback's hardware addresses are zero
	binary.BigEndian.PutUint16(eth[12:], unix.ETH_P_IP)
	ip := b[vnetHdr+14 : vnetHdr+34]
	src, to := m.src.Addr().As4(), dst.Addr().As4()
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+n))
	binary.BigEndian.PutUint16(ip[4:], m.ipID)
	m.ipID++
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment, as Linux sends UDP
	ip[8], ip[9] = 64, unix.IPPROTO_UDP
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src[:])
	copy(ip[16:20], to[:])
	binary.BigEndian.PutUint16(ip[10:], ^csumFold(csumAdd(0, ip)))
	udp := b[vnetHdr+34 : frameHdr]
	binary.BigEndian.PutUint16(udp[0:], m.src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+n))
	// The pseudo-header: addresses, protocol, UDP length.
	pseudo := csumAdd(unix.IPPROTO_UDP+uint64(8+n), ip[12:20])
	binary.BigEndian.PutUint16(udp[6:], csumFold(pseudo))
}

// csumAdd adds b, as big-endian 16-bit words, to a ones' complement sum
// kept unfolded in 64 bits.
func csumAdd(sum uint64, b []byte) uint64 {
	for len(b) >= 4 {
		sum += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

func csumFold(sum uint64) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}
