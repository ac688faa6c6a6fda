package sipserver

import (
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// mandatory lists the headers RFC 3261 §8.1.1 requires in every request
// (Max-Forwards aside: UAs in the wild omit it and Asterisk accepts that),
// with their compact forms. Each may appear once only.
var mandatory = [...]struct{ name, compact string }{
	{"From", "f"},
	{"To", "t"},
	{"Call-ID", "i"},
	{"CSeq", ""},
}

// counted are the headers validate counts: the mandatory ones, then
// Content-Length and Max-Forwards. Counting into an array indexed by this
// table, with EqualFold instead of a map of lower-cased names, keeps
// validation free of allocations (it ran on every request: 5% of the
// allocations under REGISTER load).
var counted = [...]struct{ name, compact string }{
	mandatory[0], mandatory[1], mandatory[2], mandatory[3],
	{"Content-Length", "l"},
	{"Max-Forwards", ""},
}

const (
	countContentLength = len(mandatory)
	countMaxForwards   = len(mandatory) + 1
)

// countHeaders counts the headers of counted in hs, full and compact names
// together, matched case-insensitively.
func countHeaders(hs []sip.Header) (n [len(counted)]int) {
	for _, h := range hs {
		name := h.Name()
		for i, c := range counted {
			if strings.EqualFold(name, c.name) || c.compact != "" && strings.EqualFold(name, c.compact) {
				n[i]++
				break
			}
		}
	}
	return n
}

// validate answers requests that no handler should see. It returns false
// when it has responded (or dropped the request).
func (s *Server) validate(r *Request) bool {
	req := r.Request
	ack := req.IsAck()
	fail := func(code int, reason string, hdrs ...sip.Header) bool {
		r.Log.Warn("request refused", "status", code, "reason", reason)
		if !ack { // no response can be sent to an ACK
			res := r.NewResponse(code, reason)
			res.SipVersion = "SIP/2.0" // not the request's, which may be SIP/7.0
			for _, h := range hdrs {
				res.AppendHeader(h)
			}
			r.Send(res)
		}
		return false
	}

	if !usableVia(req.Via()) {
		// RFC 3261 §18.2.2: responses follow the Via; without one there is
		// nowhere to send them (sipgo's transports drop these before us).
		r.Log.Warn("request dropped", "reason", "no usable Via header")
		return false
	}

	// RFC 3261 §21.5.20: a version other than SIP/2.0 gets 505.
	if req.SipVersion != "SIP/2.0" {
		return fail(505, "Version Not Supported")
	}

	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return fail(416, "Unsupported URI Scheme")
	}

	counts := countHeaders(req.Headers())
	for i, m := range mandatory {
		if counts[i] == 0 {
			return fail(400, "Missing "+m.name+" Header")
		}
		if counts[i] > 1 {
			return fail(400, "Duplicate "+m.name+" Header")
		}
	}
	if counts[countContentLength] > 1 {
		return fail(400, "Duplicate Content-Length Header")
	}
	if counts[countMaxForwards] > 1 {
		return fail(400, "Duplicate Max-Forwards Header")
	}
	if req.From() == nil {
		return fail(400, "Malformed From Header")
	}
	if req.To() == nil {
		return fail(400, "Malformed To Header")
	}
	cseq := req.CSeq()
	if cseq == nil {
		return fail(400, "Malformed CSeq Header")
	}
	// sipgo upper-cases the request-line method but not the CSeq one, so
	// the comparison cannot be case-sensitive (RFC 3261 §7.1 wants it to be).
	if !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return fail(400, "CSeq Method Does Not Match Request Method")
	}
	if cseq.SeqNo > 1<<31-1 {
		return fail(400, "CSeq Number Out Of Range")
	}
	if counts[countMaxForwards] == 1 {
		mf := req.MaxForwards()
		if mf == nil {
			return fail(400, "Malformed Max-Forwards Header")
		}
		if mf.Val() == 0 && !ack {
			return fail(483, "Too Many Hops")
		}
	}

	// RFC 3261 §8.2.2.3: ACK and CANCEL never trigger 420.
	if !ack && !req.IsCancel() {
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				tag = strings.TrimSpace(tag)
				if tag != "" && !slices.Contains(s.supp, tag) {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			return fail(420, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
		}
	}

	// RFC 3261 §8.2.3: a body gopbx cannot read is 415 with what it can.
	// Only INVITE is checked: its body is the SDP offer chansip reads;
	// other methods carry bodies their handlers (or nobody) interpret.
	if req.IsInvite() {
		if h := req.GetHeader("Content-Encoding"); h != nil {
			if enc := strings.ToLower(strings.TrimSpace(h.Value())); enc != "" && enc != "identity" {
				return fail(415, "Unsupported Content-Encoding", sip.NewHeader("Accept-Encoding", "identity"))
			}
		}
		if len(req.Body()) > 0 {
			ct := ""
			if h := req.ContentType(); h != nil {
				ct, _, _ = strings.Cut(h.Value(), ";")
				ct = strings.ToLower(strings.TrimSpace(ct))
			}
			if ct != "application/sdp" {
				return fail(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
			}
		}
	}
	return true
}

// usableVia reports whether a response can be routed by via: sipgo parses
// Via leniently, and a response must not echo garbage as its routing.
func usableVia(via *sip.ViaHeader) bool {
	return via != nil && via.ProtocolName == "SIP" && isToken(via.ProtocolVersion) &&
		isToken(via.Transport) && via.Host != "" && !strings.ContainsAny(via.Host, " \t\r\n")
}

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
