package sipserver

import (
	"context"
	"net"
	"strconv"
	"syscall"
)

// listenUDP opens a UDP socket with large kernel buffers. sipgo never sets
// SO_RCVBUF; with the 212 KB default a burst of REGISTERs overflows the queue
// at about 5,000/s (research/sipgo.md), with 4 MiB it stays clean at 10,000/s.
func listenUDP(ctx context.Context, network, addr string, buf int) (net.PacketConn, error) {
	lc := net.ListenConfig{
		Control: func(network, address string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				// SO_*BUFFORCE exceeds rmem_max when we have CAP_NET_ADMIN;
				// fall back to the capped option otherwise.
				if e := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, buf); e != nil {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, buf)
				}
				if e := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, buf); e != nil {
					syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, buf)
				}
				// The kernel's receive time of each datagram, so that
				// Request.Waited counts the time in this queue too (4 MiB
				// is seconds of INVITEs when the CPUs fall behind).
				setTimestamps(fd)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	return lc.ListenPacket(ctx, network, addr)
}

// Advertised returns the host and port to put in Via/Contact of a request
// leaving socket local ("ip:port") towards remote: the socket's own IP, or
// for a wildcard socket the source IP the kernel routes remote from (found
// with an unconnected-then-connected UDP socket; no packet is sent).
// Server.Advertised and Server.LocalAdvertised cache the wildcard case.
func Advertised(local, remote string) (string, int) {
	h, p, err := net.SplitHostPort(local)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(p) // not fmt.Sscan: this runs for every outgoing call (3% of a call's CPU)
	ip := net.ParseIP(h)
	if ip != nil && !ip.IsUnspecified() {
		return h, port
	}
	src, _ := kernelSource(remote)
	return src, port
}

// setTimestamps turns on SO_TIMESTAMPNS: sipgo's UDP reader (patched) then
// hands each datagram's kernel receive time to the read hook.
func setTimestamps(fd uintptr) {
	syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}
