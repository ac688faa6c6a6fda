package sip

import (
	"encoding/binary"
	"net"
	"syscall"
	"unsafe"
)

// timestampsOn reports whether SO_TIMESTAMPNS is set on the socket (the
// owner of the socket turns it on; sipgo never does). gopbx patch.
func timestampsOn(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	on := false
	rc.Control(func(fd uintptr) {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS)
		on = err == nil && v != 0
	})
	return on
}

// kernelTimestamp finds SCM_TIMESTAMPNS in a recvmsg control buffer and
// returns it as unix nanoseconds (0 when absent). No allocation: this
// runs for every datagram.
func kernelTimestamp(oob []byte) int64 {
	const hdr = int(unsafe.Sizeof(syscall.Cmsghdr{}))
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l >= hdr+16 {
			d := oob[hdr:]
			sec := int64(binary.NativeEndian.Uint64(d[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:16]))
			return sec*1e9 + nsec
		}
		// CMSG_ALIGN: the next header starts at a multiple of the word size.
		step := (l + int(unsafe.Sizeof(uintptr(0))) - 1) &^ (int(unsafe.Sizeof(uintptr(0))) - 1)
		if step >= len(oob) {
			return 0
		}
		oob = oob[step:]
	}
	return 0
}
