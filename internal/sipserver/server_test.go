package sipserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// startServer serves OPTIONS and REGISTER on 127.0.0.1 with random ports.
func startServer(t *testing.T, noFast bool) (udp, tcp string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(Options{UserAgent: "gopbx-test", Log: log, Supported: []string{"path"}, NoFastPath: noFast})
	if err != nil {
		t.Fatal(err)
	}
	ok := HandlerFunc(func(ctx context.Context, r *Request) {
		r.Respond(200, "OK", sip.NewHeader("Allow", s.Allow()))
	})
	s.Handle(sip.OPTIONS, ok)
	s.Handle(sip.REGISTER, ok)
	ctx := context.Background()
	if err := s.Listen(ctx, []Listener{{Proto: "udp", Addr: "127.0.0.1:0"}, {Proto: "tcp", Addr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	for _, l := range s.Listeners() {
		if l.Proto == "udp" {
			udp = l.Addr
		} else {
			tcp = l.Addr
		}
	}
	return udp, tcp
}

// request builds a raw request; edit lets a case break it.
func request(method, via string, extra string, drop ...string) string {
	hdrs := []string{
		"Via: SIP/2.0/" + via + ";branch=z9hG4bK" + fmt.Sprint(time.Now().UnixNano()) + ";rport",
		"Max-Forwards: 70",
		"From: <sip:tester@127.0.0.1>;tag=abc",
		"To: <sip:gopbx@127.0.0.1>",
		"Call-ID: " + fmt.Sprint(time.Now().UnixNano()) + "@test",
		"CSeq: 1 " + method,
	}
	var out []string
	for _, h := range hdrs {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(h, d+":") {
				keep = false
			}
		}
		if keep {
			out = append(out, h)
		}
	}
	if extra != "" {
		out = append(out, extra)
	}
	return method + " sip:gopbx@127.0.0.1 SIP/2.0\r\n" + strings.Join(out, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

func exchangeUDP(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg = strings.ReplaceAll(msg, "SIP/2.0/UDP", "SIP/2.0/UDP "+c.LocalAddr().String())
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return ""
		}
		res := string(buf[:n])
		if strings.HasPrefix(res, "SIP/2.0 100 ") {
			continue
		}
		return res
	}
}

func exchangeTCP(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg = strings.ReplaceAll(msg, "SIP/2.0/TCP", "SIP/2.0/TCP "+c.LocalAddr().String())
	c.Write([]byte(msg))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(c)
	var sb strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return sb.String()
		}
		sb.WriteString(line)
		if line == "\r\n" {
			return sb.String()
		}
	}
}

func statusLine(res string) string {
	line, _, _ := strings.Cut(res, "\r\n")
	return line
}

// TestValidation runs every case over TCP, over UDP through the fast path
// (OPTIONS, REGISTER) or sipgo's transactions (the rest), and over UDP with
// the fast path off, so both request paths answer alike.
func TestValidation(t *testing.T) {
	for _, noFast := range []bool{false, true} {
		t.Run(fmt.Sprintf("nofastpath=%v", noFast), func(t *testing.T) { testValidation(t, noFast) })
	}
}

func testValidation(t *testing.T, noFast bool) {
	udp, tcp := startServer(t, noFast)
	cases := []struct {
		name string
		msg  func(via string) string
		want string // status line; "" = no answer
		hdr  string // a header the answer must carry
	}{
		{"options ok", func(v string) string { return request("OPTIONS", v, "") }, "SIP/2.0 200 OK", "Server: gopbx-test"},
		{"allow lists handlers", func(v string) string { return request("OPTIONS", v, "") }, "SIP/2.0 200 OK", "Allow: REGISTER, OPTIONS"},
		{"unknown method", func(v string) string { return request("FOOBAR", v, "") }, "SIP/2.0 501 Not Implemented", "Allow: REGISTER, OPTIONS"},
		{"known unserved method", func(v string) string { return request("SUBSCRIBE", v, "") }, "SIP/2.0 405 Method Not Allowed", "Allow: REGISTER, OPTIONS"},
		{"max-forwards 0", func(v string) string {
			return strings.Replace(request("OPTIONS", v, ""), "Max-Forwards: 70", "Max-Forwards: 0", 1)
		}, "SIP/2.0 483 Too Many Hops", ""},
		{"unknown require", func(v string) string { return request("OPTIONS", v, "Require: foo, path") }, "SIP/2.0 420 Bad Extension", "Unsupported: foo"},
		{"missing from", func(v string) string { return request("OPTIONS", v, "", "From") }, "SIP/2.0 400 Missing From Header", ""},
		{"missing to", func(v string) string { return request("OPTIONS", v, "", "To") }, "SIP/2.0 400 Missing To Header", ""},
		{"missing call-id", func(v string) string { return request("OPTIONS", v, "", "Call-ID") }, "SIP/2.0 400 Missing Call-ID Header", ""},
		{"duplicate call-id", func(v string) string { return request("OPTIONS", v, "Call-ID: second") }, "SIP/2.0 400 Duplicate Call-ID Header", ""},
		{"cseq method mismatch", func(v string) string {
			return strings.Replace(request("OPTIONS", v, ""), "CSeq: 1 OPTIONS", "CSeq: 1 INVITE", 1)
		}, "SIP/2.0 400 CSeq Method Does Not Match Request Method", ""},
		{"unsupported uri scheme", func(v string) string {
			return strings.Replace(request("OPTIONS", v, ""), "OPTIONS sip:gopbx@127.0.0.1", "OPTIONS http://example.com/", 1)
		}, "SIP/2.0 416 Unsupported URI Scheme", ""},
		{"garbage", func(v string) string { return "\x00\x01garbage\r\n\r\n" }, "", ""},
	}
	for _, tc := range cases {
		for _, tr := range []string{"UDP", "TCP"} {
			t.Run(tc.name+"/"+tr, func(t *testing.T) {
				var res string
				if tr == "UDP" {
					res = exchangeUDP(t, udp, tc.msg("UDP"))
				} else {
					res = exchangeTCP(t, tcp, tc.msg("TCP"))
				}
				if got := statusLine(res); got != tc.want {
					t.Fatalf("status = %q, want %q\n%s", got, tc.want, res)
				}
				if tc.hdr != "" && !strings.Contains(res, "\r\n"+tc.hdr+"\r\n") {
					t.Fatalf("answer lacks %q:\n%s", tc.hdr, res)
				}
				// The server must still answer afterwards.
				if got := statusLine(exchangeUDP(t, udp, request("OPTIONS", "UDP", ""))); got != "SIP/2.0 200 OK" {
					t.Fatalf("server not answering after %s: %q", tc.name, got)
				}
			})
		}
	}
}

func TestRportResponse(t *testing.T) {
	udp, _ := startServer(t, false)
	res := exchangeUDP(t, udp, request("OPTIONS", "UDP", ""))
	if !strings.Contains(res, ";rport=") || !strings.Contains(res, ";received=127.0.0.1") {
		t.Fatalf("Via lacks rport/received:\n%s", res)
	}
}
