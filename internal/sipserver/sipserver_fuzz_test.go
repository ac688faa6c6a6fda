package sipserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// fuzzServer is a Server with OPTIONS, REGISTER and INVITE handlers that
// answer 200, no listeners and a silent log.
func fuzzServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(Options{UserAgent: "gopbx-fuzz", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Supported: []string{"path"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := HandlerFunc(func(ctx context.Context, r *Request) { r.Respond(200, "OK") })
	s.Handle(sip.OPTIONS, ok)
	s.Handle(sip.REGISTER, ok)
	s.Handle(sip.INVITE, ok)
	s.Handle(sip.ACK, HandlerFunc(func(ctx context.Context, r *Request) {}))
	return s
}

// addSeeds adds one well-formed request per fast-path method; the
// committed corpus in testdata/fuzz/<Target>/ (the RFC 4475 messages of
// test/torture and the suite's own torture cases) is run by go test itself.
func addSeeds(f *testing.F) {
	for _, m := range []string{"OPTIONS", "REGISTER", "INVITE", "ACK"} {
		f.Add([]byte(m + " sip:gopbx@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKseed;rport\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:gopbx@127.0.0.1>\r\n" +
			"Call-ID: seed@test\r\nCSeq: 1 " + m + "\r\nContent-Length: 0\r\n\r\n"))
	}
}

// checkResponse fails unless b is one well-formed SIP/2.0 response: a
// status line, header lines ended by an empty line, a Via to route
// it by and a Content-Length that matches the body. Headers echoed from the
// request (From, To...) are not checked: sipgo parses some malformed values
// leniently and writes them back as they came.
func checkResponse(t *testing.T, b []byte) {
	t.Helper()
	head, body, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok {
		t.Fatalf("response has no end of headers:\n%q", b)
	}
	lines := strings.Split(head, "\r\n")
	if !fuzzStatusLine.MatchString(lines[0]) {
		t.Fatalf("bad status line %q", lines[0])
	}
	via, clen := "", -1
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok || !fuzzHeaderName.MatchString(name) {
			t.Fatalf("bad header line %q in:\n%q", l, b)
		}
		switch strings.ToLower(name) {
		case "via", "v":
			if via == "" {
				via = strings.TrimSpace(val)
			}
		case "content-length", "l":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || clen >= 0 {
				t.Fatalf("bad or repeated Content-Length %q in:\n%q", val, b)
			}
			clen = n
		}
	}
	if !fuzzVia.MatchString(via) { // the request's own Via, echoed
		t.Fatalf("response has no Via to route it by:\n%q", b)
	}
	if clen != len(body) {
		t.Fatalf("Content-Length %d, body %d bytes:\n%q", clen, len(body), b)
	}
}

var (
	fuzzStatusLine = regexp.MustCompile(`^SIP/2\.0 [1-6][0-9][0-9] [^\r\n]*$`)
	fuzzVia        = regexp.MustCompile(`^SIP/[^/ ]*/[^ ]+ +[^ ]`)
	fuzzHeaderName = regexp.MustCompile(`^[A-Za-z0-9!%*_+\x60'~.-]+$`)
)

// FuzzParseAndValidate runs sipgo's parser and gopbx's validation and
// dispatch over arbitrary bytes. It must never panic, and whatever it
// answers must be a well-formed SIP response.
func FuzzParseAndValidate(f *testing.F) {
	addSeeds(f)
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.NewParser().ParseSIP(data)
		if err != nil {
			return // sipgo drops it: gopbx never sees it
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		var out [][]byte
		r := &Request{Request: req, srv: s, Log: s.log}
		r.reply = func(res *sip.Response) error {
			var buf bytes.Buffer
			res.StringWrite(&buf)
			out = append(out, buf.Bytes())
			return nil
		}
		s.dispatch(r)
		if req.IsAck() && len(out) > 0 {
			t.Fatalf("ACK answered:\n%q", out[0])
		}
		for _, b := range out {
			checkResponse(t, b)
		}
	})
}

// packetRecorder is a net.PacketConn that records what is written to it.
type packetRecorder struct {
	mu  sync.Mutex
	out [][]byte
}

func (p *packetRecorder) WriteTo(b []byte, to net.Addr) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, bytes.Clone(b))
	return len(b), nil
}
func (p *packetRecorder) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }
func (p *packetRecorder) Close() error                           { return nil }
func (p *packetRecorder) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
}
func (p *packetRecorder) SetDeadline(time.Time) error      { return nil }
func (p *packetRecorder) SetReadDeadline(time.Time) error  { return nil }
func (p *packetRecorder) SetWriteDeadline(time.Time) error { return nil }

// FuzzFastPath feeds datagrams through the UDP fast path (filter and
// worker handling) with a recording PacketConn instead of a socket. It
// must never panic, and every datagram it sends must be a well-formed SIP
// response.
func FuzzFastPath(f *testing.F) {
	addSeeds(f)
	s := fuzzServer(f)
	pc := &packetRecorder{}
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5070}
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isFast(data) {
			data = append([]byte("OPTIONS "), data...) // reach the parser
		}
		pc.mu.Lock()
		pc.out = nil
		pc.mu.Unlock()
		// Twice: the second is a retransmission and gets the stored answer.
		s.fast.handle(parser, fastJob{data: bytes.Clone(data), from: from, src: from.String(), lstr: pc.LocalAddr().String(), pc: pc})
		s.fast.handle(parser, fastJob{data: bytes.Clone(data), from: from, src: from.String(), lstr: pc.LocalAddr().String(), pc: pc})
		s.fast.running.Wait() // INVITE handlers run on their own goroutines
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if bytes.HasPrefix(data, []byte("ACK ")) && len(pc.out) > 0 {
			t.Fatalf("ACK answered:\n%q", pc.out[0])
		}
		for _, b := range pc.out {
			checkResponse(t, b)
		}
	})
}
