package sip

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestKernelTimestamp: with SO_TIMESTAMPNS on, a datagram that sat in the
// socket's queue comes with the time the kernel received it, not the time
// it was read.
func TestKernelTimestamp(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if timestampsOn(c) {
		t.Fatal("SO_TIMESTAMPNS reported on a new socket")
	}
	rc, _ := c.SyscallConn()
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if !timestampsOn(c) {
		t.Fatal("SO_TIMESTAMPNS not reported after setting it")
	}
	s, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf, oob := make([]byte, 1500), make([]byte, 64)
	// Linux turns receive timestamps on for the whole host from a work
	// queue, a moment after the first socket asks (net_enable_timestamp);
	// until then a datagram is stamped when it is read. Wait for that with
	// warm-up datagrams, as a server's first packets would.
	for i := 0; ; i++ {
		if _, err := s.Write([]byte("warm-up")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		if at := kernelTimestamp(oob[:oobn]); at != 0 && time.Since(time.Unix(0, at)) >= 15*time.Millisecond {
			break
		}
		if i == 50 {
			t.Fatal("receive timestamps still taken at the read after 50 warm-up datagrams")
		}
	}
	sent := time.Now()
	if _, err := s.Write([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // the datagram waits in the queue
	_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	at := kernelTimestamp(oob[:oobn])
	if at == 0 {
		t.Fatalf("no SCM_TIMESTAMPNS in %d bytes of control data", oobn)
	}
	got := time.Unix(0, at)
	if d := got.Sub(sent); d < -5*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("kernel timestamp %v after the send, want about 0 (the read came 150 ms later)", d)
	}
	if kernelTimestamp(nil) != 0 || kernelTimestamp(make([]byte, 8)) != 0 {
		t.Error("timestamp found in empty control data")
	}
}
