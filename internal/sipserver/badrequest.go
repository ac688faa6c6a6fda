package sipserver

import (
	"bytes"
	"context"
	"hash/maphash"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// sipgo's parser drops a UDP datagram it cannot parse, logging it as
// "failed to parse" with the payload. RFC 3261 §21.4.1 and RFC 4475 want a
// 400 when a response can still be formed, so the read filter remembers
// the last datagram handed to sipgo per socket (a hash and the source) and
// a log hook, called synchronously on the same read goroutine, answers it
// from the raw header lines. A datagram without a Via is dropped: there is
// no way to route an answer.

// lastRead is the last datagram of one UDP socket passed to sipgo.
type lastRead struct {
	hash atomic.Uint64
	from atomic.Value // net.Addr
	pc   net.PacketConn
}

type badRequests struct {
	seed  maphash.Seed
	socks sync.Map // local net.Addr (as returned by LocalAddr) → *lastRead
	sent  atomic.Uint64

	// Stream transports (TCP, TLS): the last chunks read, in a small ring,
	// since connections come and go; sipgo closes the connection after a
	// parse failure, so the 400 is written just before that.
	streamMu sync.Mutex
	stream   [32]streamRead
	streamN  int
}

type streamRead struct {
	hash      uint64
	transport string
	remote    string
}

// rememberStream is called from the read filter for stream chunks.
func (b *badRequests) rememberStream(transport string, from net.Addr, data []byte) {
	h := maphash.Bytes(b.seed, data)
	b.streamMu.Lock()
	b.stream[b.streamN%len(b.stream)] = streamRead{hash: h, transport: transport, remote: from.String()}
	b.streamN++
	b.streamMu.Unlock()
}

// answerStream writes the 400 on the stream connection the data came on.
func (b *badRequests) answerStream(s *Server, data, reason string) bool {
	h := maphash.String(b.seed, data)
	b.streamMu.Lock()
	var hit streamRead
	for _, r := range b.stream {
		if r.hash == h && r.remote != "" {
			hit = r
		}
	}
	b.streamMu.Unlock()
	if hit.remote == "" {
		return false
	}
	pool := s.ua.TransportLayer().Pool(hit.transport)
	if pool == nil {
		return true
	}
	conn := pool.Get(hit.remote)
	if conn == nil {
		return true
	}
	if !framed(data) {
		return true // no usable Content-Length: the stream has no boundary, sipgo closes it
	}
	raw := badRequestResponse([]byte(data), reason, s.userAgent())
	if raw == nil {
		return true
	}
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		return true
	}
	if conn.WriteMsg(msg) == nil {
		b.sent.Add(1)
	}
	return true
}

func newBadRequests() *badRequests { return &badRequests{seed: maphash.MakeSeed()} }

// remember is called from the read filter for datagrams going to sipgo.
func (b *badRequests) remember(s *Server, local, from net.Addr, data []byte) {
	v, ok := b.socks.Load(local)
	if !ok {
		pc := s.udpConn(local.String())
		if pc == nil {
			return
		}
		v, _ = b.socks.LoadOrStore(local, &lastRead{pc: pc})
	}
	lr := v.(*lastRead)
	lr.from.Store(from)
	lr.hash.Store(maphash.Bytes(b.seed, data))
}

// answer sends 400 for the unparsable datagram data, if it was the last
// one a UDP socket read.
func (b *badRequests) answer(s *Server, data, reason string) {
	h := maphash.String(b.seed, data)
	b.socks.Range(func(_, v any) bool {
		lr := v.(*lastRead)
		if lr.hash.Load() != h {
			return true
		}
		from, _ := lr.from.Load().(net.Addr)
		if from == nil {
			return false
		}
		if res := badRequestResponse([]byte(data), reason, s.userAgent()); res != nil {
			if _, err := lr.pc.WriteTo(res, from); err == nil {
				b.sent.Add(1)
			}
		}
		return false
	})
}

// badRequestResponse builds "400 Bad Request" for a request that did not
// parse, copying Via, From, To, Call-ID and CSeq as written (§8.2.6.2), or
// returns nil when that is impossible (a response, no Via, no CSeq).
func badRequestResponse(data []byte, reason, server string) []byte {
	if bytes.HasPrefix(data, []byte("SIP/")) {
		return nil // never answer a response
	}
	if !bytes.Contains(data, []byte("\r\n")) {
		return nil // bare LF: not SIP framing, not ours to answer
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) < 2 {
		return nil
	}
	keep := map[string]string{"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
		"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
	var out []string
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue // folded continuation: not copied
		}
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		canon, ok := keep[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			continue
		}
		if canon != "Via" && seen[canon] {
			continue
		}
		seen[canon] = true
		out = append(out, canon+": "+strings.TrimSpace(val))
	}
	if !seen["Via"] || !seen["CSeq"] || !seen["Call-ID"] {
		return nil
	}
	for _, h := range out {
		if strings.HasPrefix(h, "Via: ") {
			if !routable(h) {
				return nil // only send what routes
			}
			break
		}
	}
	code, phrase := diagnose(lines, reason)
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + phrase + "\r\n")
	for _, h := range out {
		b.WriteString(h + "\r\n")
	}
	if server != "" {
		b.WriteString("Server: " + server + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// routable reports whether the first copied Via parses into one a
// response can be sent by.
func routable(via string) bool { return parseTopVia([]byte(via)) != nil }

// parseTopVia parses a Via header line ("Via: ..." or "v: ...") and
// returns its first value if a response can be sent by it, else nil.
func parseTopVia(line []byte) *sip.ViaHeader {
	hs, err := headerParsers.ParseHeader(nil, line)
	if err != nil || len(hs) == 0 {
		return nil
	}
	if v, ok := hs[0].(*sip.ViaHeader); ok && usableVia(v) {
		return v
	}
	return nil
}

// headerParsers is sipgo's own header parser table, used to find which
// header line made the message fail; read-only.
var headerParsers = sip.HeadersParser(sip.DefaultHeadersParser())

// diagnose names the fault the way validate does ("Malformed CSeq
// Header"), or 416 for a Request-URI scheme sipgo does not know; otherwise
// the parser's own words.
func diagnose(lines []string, reason string) (int, string) {
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if !ok || l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		if _, err := headerParsers.ParseHeader(nil, []byte(l)); err != nil {
			return 400, "Malformed " + canonicalName(strings.TrimSpace(name)) + " Header"
		}
	}
	if strings.Contains(reason, "body incomplete") {
		return 400, "Content-Length Mismatch"
	}
	if strings.Contains(reason, "uri scheme") {
		// The headers parsed, so it is the Request-URI: a well-formed
		// scheme we do not serve is 416, anything else is malformed.
		if f := strings.Fields(lines[0]); len(f) >= 2 && wellFormedScheme(f[1]) {
			return 416, "Unsupported URI Scheme"
		}
		return 400, "Malformed Request-URI"
	}
	return 400, reasonPhrase(reason)
}

func canonicalName(n string) string {
	switch strings.ToLower(n) {
	case "cseq":
		return "CSeq"
	case "call-id", "i":
		return "Call-ID"
	case "v":
		return "Via"
	case "f":
		return "From"
	case "t":
		return "To"
	case "m":
		return "Contact"
	case "l":
		return "Content-Length"
	case "c":
		return "Content-Type"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return -1
		}
		return r
	}, n)
}

// reasonPhrase turns the parser's error into a safe reason phrase naming
// the fault.
func reasonPhrase(reason string) string {
	r := strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c > 0x7e {
			return ' '
		}
		return c
	}, reason)
	r = strings.Join(strings.Fields(r), " ")
	if len(r) > 100 {
		r = r[:100]
	}
	if r == "" {
		return "Bad Request"
	}
	return "Bad Request (" + r + ")"
}

// parseFailHook sees sipgo's log records: "failed to parse" triggers the
// 400; every record goes on to the level-shifted handler.
type parseFailHook struct {
	next slog.Handler
	s    *Server
}

func (h parseFailHook) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h parseFailHook) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && r.Message == "failed to parse" {
		var data, reason string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "data":
				data = a.Value.String()
			case "error":
				reason = a.Value.String()
			}
			return true
		})
		if data != "" && !h.s.bad.answerStream(h.s, data, reason) {
			h.s.bad.answer(h.s, data, reason)
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h parseFailHook) WithAttrs(as []slog.Attr) slog.Handler {
	return parseFailHook{next: h.next.WithAttrs(as), s: h.s}
}

func (h parseFailHook) WithGroup(n string) slog.Handler {
	return parseFailHook{next: h.next.WithGroup(n), s: h.s}
}

// wellFormedScheme reports whether uri starts with an RFC 3986 scheme.
func wellFormedScheme(uri string) bool {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || scheme == "" {
		return false
	}
	for i, c := range scheme {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// framed reports whether a message read from a stream carries exactly one
// Content-Length with a valid value (RFC 3261 §18.3: on streams it is the
// only framing), so answering it does not guess at where it ends.
func framed(data string) bool {
	head, _, _ := strings.Cut(data, "\r\n\r\n")
	n := 0
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "l":
			v, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || v < 0 {
				return false
			}
			n++
		}
	}
	return n == 1
}
