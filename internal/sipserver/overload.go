package sipserver

import (
	"bytes"
	"net"
	"time"
)

// OverloadGate is a Gate that also has new calls refused in the UDP read
// loop while the fast path is behind (Request.QueueDelay above
// OverloadDelay), before they are queued or parsed. Past about twice what
// the CPUs can take, refusing after the queue and the parse (in Admit)
// left the read loop too little CPU: the socket overflowed and calls
// already admitted lost their ACKs and BYEs. Refused in the read loop, a
// new INVITE costs a scan of its header lines and one write.
type OverloadGate interface {
	Gate
	// OverloadDelay is the standing queue delay above which new INVITEs
	// are refused; 0 refuses none here.
	OverloadDelay() time.Duration
	// Overloaded is told of each call refused so (from the read loop: it
	// must be quick); false has the INVITE dropped without an answer (a
	// scanner the gate keeps silent towards).
	Overloaded(c RefusedCall) bool
}

// RefusedCall describes a new INVITE refused in the read loop.
type RefusedCall struct {
	Src       string // "ip:port"
	CallID    string
	FromUser  string
	UserAgent string
}

// refuseOverloaded answers a new INVITE with a stateless 503 and
// Retry-After from the read loop when the fast path's standing queue
// delay is above the gate's limit, and reports whether it did (or dropped
// the INVITE on the gate's word). Anything it cannot answer from the raw
// header lines (a To tag, folded or repeated headers, no usable Via) goes
// the normal way, where Admit applies the same limit.
func (f *fastPath) refuseOverloaded(g Gate, data []byte, from net.Addr, src, local string) bool {
	og, ok := g.(OverloadGate)
	if !ok || !bytes.HasPrefix(data, []byte("INVITE ")) {
		return false
	}
	d := og.OverloadDelay()
	if d <= 0 || f.s.QueueDelay() <= d {
		return false
	}
	h, ok := scanNewInvite(data)
	if !ok {
		return false
	}
	via := parseTopVia(h.topVia)
	pc := f.s.udpConn(local)
	if via == nil || pc == nil {
		return false
	}
	f.overloaded.Add(1)
	if !og.Overloaded(RefusedCall{Src: src, CallID: string(h.callID), FromUser: string(sipUser(h.from)), UserAgent: string(h.userAgent)}) {
		return true
	}
	bp := f.bufs.Get().(*[]byte)
	res := h.appendResponse((*bp)[:0], "503 Service Unavailable", f.slTag, "Retry-After: 2", f.s.userAgent())
	_ = f.write(pc, res, viaDest(via, from), nil)
	*bp = res
	f.bufs.Put(bp)
	return true
}

// newInvite is what a stateless response to a new INVITE copies from it
// (RFC 3261 §8.2.6.2): the header lines' values as written.
type newInvite struct {
	vias      [][]byte // values of the Via lines, in order
	topVia    []byte   // the first Via line, name and all
	from, to  []byte
	callID    []byte
	cseq      []byte
	userAgent []byte
}

// scanNewInvite finds the header lines of an INVITE without a To tag, or
// reports false for anything it should not answer from the raw lines: a
// tag (a re-INVITE: its dialog's handler decides), a missing or repeated
// header, a folded line, a CSeq that is not an INVITE's.
func scanNewInvite(data []byte) (h newInvite, ok bool) {
	head, _, found := bytes.Cut(data, []byte("\r\n\r\n"))
	if !found {
		return h, false
	}
	_, rest, found := bytes.Cut(head, []byte("\r\n")) // the request line
	if !found {
		return h, false
	}
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			return h, false
		}
		name, val, found := bytes.Cut(line, []byte(":"))
		if !found {
			return h, false
		}
		name, val = bytes.TrimSpace(name), bytes.TrimSpace(val)
		var dst *[]byte
		switch {
		case nameIs(name, "via", "v"):
			if h.topVia == nil {
				h.topVia = line
			}
			h.vias = append(h.vias, val)
			continue
		case nameIs(name, "from", "f"):
			dst = &h.from
		case nameIs(name, "to", "t"):
			if containsFold(val, []byte("tag")) {
				return h, false
			}
			dst = &h.to
		case nameIs(name, "call-id", "i"):
			dst = &h.callID
		case nameIs(name, "cseq", ""):
			if f := bytes.Fields(val); len(f) != 2 || string(f[1]) != "INVITE" {
				return h, false
			}
			dst = &h.cseq
		case nameIs(name, "user-agent", ""):
			dst = &h.userAgent
		default:
			continue
		}
		if *dst != nil || len(val) == 0 {
			return h, false
		}
		*dst = val
	}
	return h, h.topVia != nil && h.from != nil && h.to != nil && h.callID != nil && h.cseq != nil
}

// appendResponse appends the response with status ("503 Service
// Unavailable"), toTag added to To, one extra header line and Server.
func (h *newInvite) appendResponse(b []byte, status string, toTag []byte, extra, server string) []byte {
	b = append(b, "SIP/2.0 "...)
	b = append(b, status...)
	b = append(b, "\r\n"...)
	for _, v := range h.vias {
		b = appendHeader(b, "Via", v)
	}
	b = appendHeader(b, "From", h.from)
	b = append(b, "To: "...)
	b = append(b, h.to...)
	b = append(b, ";tag="...)
	b = append(b, toTag...)
	b = append(b, "\r\n"...)
	b = appendHeader(b, "Call-ID", h.callID)
	b = appendHeader(b, "CSeq", h.cseq)
	if extra != "" {
		b = append(b, extra...)
		b = append(b, "\r\n"...)
	}
	if server != "" {
		b = appendHeader(b, "Server", server)
	}
	return append(b, "Content-Length: 0\r\n\r\n"...)
}

func appendHeader[V string | []byte](b []byte, name string, val V) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, val...)
	return append(b, "\r\n"...)
}

// nameIs compares a header name with its long and compact forms.
func nameIs(name []byte, long, compact string) bool {
	return bytes.EqualFold(name, []byte(long)) || (compact != "" && bytes.EqualFold(name, []byte(compact)))
}

// containsFold reports whether sub (lower case ASCII) is in b, ignoring
// case.
func containsFold(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// sipUser is the user part of a From value's SIP URI, or nil.
func sipUser(v []byte) []byte {
	i := bytes.Index(v, []byte("sip:"))
	n := 4
	if j := bytes.Index(v, []byte("sips:")); j >= 0 && (i < 0 || j < i) {
		i, n = j, 5
	}
	if i < 0 {
		return nil
	}
	u := v[i+n:]
	at := bytes.IndexByte(u, '@')
	if at < 0 || bytes.ContainsAny(u[:at], ">;") {
		return nil
	}
	return u[:at]
}

// QueueDelay is the fast path's standing queue delay now (see
// Request.QueueDelay); 0 without a UDP fast path.
func (s *Server) QueueDelay() time.Duration {
	if s.fast == nil {
		return 0
	}
	return s.fast.delay.Standing(time.Now().UnixNano())
}

// Overloaded is how many new INVITEs the read loop refused (or dropped)
// because the fast path was behind.
func (s *Server) Overloaded() int64 {
	if s.fast == nil {
		return 0
	}
	return s.fast.overloaded.Load()
}
