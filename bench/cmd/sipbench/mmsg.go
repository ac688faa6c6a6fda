package main

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batched UDP I/O for the RTP generator: one sendmmsg/recvmmsg moves up to
// mmsgBatch datagrams, so the generator's syscall count stays far below
// gopbx's one per packet and the cores go to the server under test.

const mmsgBatch = 64

// mmsgConn batches datagrams on one UDP socket. Not safe for concurrent
// use: each sender and each reader owns its own.
type mmsgConn struct {
	raw   syscall.RawConn
	hdrs  [mmsgBatch]unix.Mmsghdr
	iovs  [mmsgBatch]unix.Iovec
	names [mmsgBatch]unix.RawSockaddrInet4
	bufs  [mmsgBatch][]byte
	n     int // queued for sending
}

func newMmsgConn(c *net.UDPConn, bufSize int) (*mmsgConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgConn{raw: raw}
	for i := range m.hdrs {
		m.bufs[i] = make([]byte, bufSize)
		m.iovs[i].Base = &m.bufs[i][0]
		m.hdrs[i].Hdr.Iov = &m.iovs[i]
		m.hdrs[i].Hdr.SetIovlen(1)
	}
	return m, nil
}

// next returns the buffer of the next queued datagram to dst (IPv4); the
// caller fills it and passes its length to queue.
func (m *mmsgConn) next() []byte { return m.bufs[m.n] }

func (m *mmsgConn) queue(dst netip.AddrPort, n int) {
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
	sent := 0
	for sent < m.n {
		var k int
		var errno syscall.Errno
		err := m.raw.Write(func(fd uintptr) bool {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[sent])), uintptr(m.n-sent), unix.MSG_DONTWAIT, 0, 0)
			k, errno = int(r), e
			return e != unix.EAGAIN
		})
		if err != nil || errno != 0 || k <= 0 {
			break // socket closed or a hard error: drop the rest
		}
		sent += k
	}
	m.n = 0
	return sent
}

// recv waits for datagrams and returns the RTP ones (version 2, at least
// a header long) of the batch; each is valid until the next recv.
func (m *mmsgConn) recv(out [][]byte) ([][]byte, error) {
	for i := range m.hdrs {
		m.iovs[i].SetLen(len(m.bufs[i]))
		m.hdrs[i].Hdr.Name = nil
		m.hdrs[i].Hdr.Namelen = 0
	}
	var k int
	var errno syscall.Errno
	err := m.raw.Read(func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), mmsgBatch, unix.MSG_DONTWAIT, 0, 0)
		k, errno = int(r), e
		return e != unix.EAGAIN
	})
	out = out[:0]
	if err != nil {
		return out, err
	}
	if errno != 0 {
		return out, nil
	}
	for i := 0; i < k; i++ {
		if n := int(m.hdrs[i].Len); n >= 12 && m.bufs[i][0]>>6 == 2 {
			out = append(out, m.bufs[i][:n])
		}
	}
	return out, nil
}
