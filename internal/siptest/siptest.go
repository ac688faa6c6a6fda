package siptest

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var seq atomic.Int64

// Unique returns a string unique within the test process (branches, tags, Call-IDs).
func Unique() string { return fmt.Sprintf("%d%d", time.Now().UnixNano(), seq.Add(1)) }

// UDP is a client socket that sends raw messages to one server address.
type UDP struct {
	t    testing.TB
	conn *net.UDPConn
	to   *net.UDPAddr
}

// DialUDP opens a socket on local (e.g. "127.0.0.1:0") towards server.
func DialUDP(t testing.TB, local, server string) *UDP {
	t.Helper()
	la, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", la)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &UDP{t: t, conn: c, to: ra}
}

// Addr is the client's own address.
func (u *UDP) Addr() string { return u.conn.LocalAddr().String() }

// Send writes msg, replacing "{local}" with the client's address.
func (u *UDP) Send(msg string) {
	u.t.Helper()
	msg = strings.ReplaceAll(msg, "{local}", u.Addr())
	if _, err := u.conn.WriteToUDP([]byte(msg), u.to); err != nil {
		u.t.Fatal(err)
	}
}

// Read returns the next message, skipping 100 Trying, or "" after timeout.
func (u *UDP) Read(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65535)
	for {
		u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		m := string(buf[:n])
		if strings.HasPrefix(m, "SIP/2.0 100 ") {
			continue
		}
		return m
	}
}

// ReadFrom is Read that also returns the sender.
func (u *UDP) ReadFrom(timeout time.Duration) (string, string) {
	u.conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 65535)
	n, from, err := u.conn.ReadFromUDP(buf)
	if err != nil {
		return "", ""
	}
	return string(buf[:n]), from.String()
}

// Exchange sends msg and returns the first non-100 answer.
func (u *UDP) Exchange(msg string) string {
	u.t.Helper()
	u.Send(msg)
	return u.Read(2 * time.Second)
}

// Status returns a response's status line.
func Status(msg string) string {
	line, _, _ := strings.Cut(msg, "\r\n")
	return line
}

// Headers returns the values of every header called name (case-insensitive,
// long form only).
func Headers(msg, name string) []string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	var out []string
	for _, line := range strings.Split(head, "\r\n")[1:] {
		n, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// Header returns the first value of header name, or "".
func Header(msg, name string) string {
	if hs := Headers(msg, name); len(hs) > 0 {
		return hs[0]
	}
	return ""
}
