package sipserver

import (
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// mandatory lists the headers RFC 3261 §8.1.1 requires in every request
// (Max-Forwards aside: UAs in the wild omit it and Asterisk accepts that),
// with their compact forms. Each may appear once only.
var mandatory = []struct{ name, compact string }{
	{"From", "f"},
	{"To", "t"},
	{"Call-ID", "i"},
	{"CSeq", ""},
}

// validate answers requests that no handler should see. It returns false
// when it has responded (or dropped the request).
func (s *Server) validate(r *Request) bool {
	req := r.Request
	ack := req.IsAck()
	fail := func(code int, reason string, hdrs ...sip.Header) bool {
		r.Log.Warn("request refused", "status", code, "reason", reason)
		if !ack { // no response can be sent to an ACK
			r.Respond(code, reason, hdrs...)
		}
		return false
	}

	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return fail(416, "Unsupported URI Scheme")
	}

	counts := make(map[string]int, 8)
	for _, h := range req.Headers() {
		counts[strings.ToLower(h.Name())]++
	}
	for _, m := range mandatory {
		n := counts[strings.ToLower(m.name)]
		if m.compact != "" {
			n += counts[m.compact]
		}
		if n == 0 {
			return fail(400, "Missing "+m.name+" Header")
		}
		if n > 1 {
			return fail(400, "Duplicate "+m.name+" Header")
		}
	}
	if counts["max-forwards"] > 1 {
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
	if cseq.MethodName != req.Method {
		return fail(400, "CSeq Method Does Not Match Request Method")
	}
	if cseq.SeqNo > 1<<31-1 {
		return fail(400, "CSeq Number Out Of Range")
	}
	if counts["max-forwards"] == 1 {
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
	return true
}
