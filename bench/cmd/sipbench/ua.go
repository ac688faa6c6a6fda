package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A minimal SIP UAC and UAS over UDP for the media workloads: SIPp cannot
// hand the media ports gopbx answers with to a Go RTP generator, and the
// media loads need calls that stay up while RTP flows (or nothing flows),
// not a call rate. Only what a call through gopbx needs: INVITE with SDP,
// 100/200, ACK, and the callee's answers to INVITE, ACK, BYE and OPTIONS.

// sipMsg is a parsed SIP message: the start line, headers by lower-case
// name (first occurrence; Via keeps every value in order) and the body.
type sipMsg struct {
	start string
	hdr   map[string]string
	vias  []string
	body  []byte
}

func parseSIP(b []byte) (*sipMsg, error) {
	head, body, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok {
		return nil, errors.New("sip: no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	m := &sipMsg{start: lines[0], hdr: map[string]string{}, body: []byte(body)}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		switch k { // compact forms
		case "v":
			k = "via"
		case "f":
			k = "from"
		case "t":
			k = "to"
		case "i":
			k = "call-id"
		case "m":
			k = "contact"
		case "l":
			k = "content-length"
		}
		v = strings.TrimSpace(v)
		if k == "via" {
			m.vias = append(m.vias, v)
		}
		if _, dup := m.hdr[k]; !dup {
			m.hdr[k] = v
		}
	}
	return m, nil
}

// status is the response code, 0 for a request.
func (m *sipMsg) status() int {
	if !strings.HasPrefix(m.start, "SIP/2.0 ") {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(m.start)[1])
	return n
}

func (m *sipMsg) method() string { return strings.Fields(m.start)[0] }

// cseqMethod is the method of the CSeq header.
func (m *sipMsg) cseqMethod() string {
	f := strings.Fields(m.hdr["cseq"])
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// uri returns the URI inside <...> of a From/To/Contact value.
func headerURI(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	u, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(u)
}

// tag returns the tag parameter of a From/To value.
func headerTag(v string) string {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i:]
	}
	for _, p := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "tag") {
			return val
		}
	}
	return ""
}

// sdpMedia returns the RTP address of an SDP body (c= and the first
// m=audio port) and the first payload type offered.
func sdpMedia(body []byte) (netip.AddrPort, int, error) {
	var addr netip.Addr
	port, pt := -1, -1
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "c=IN IP4 ") && !addr.IsValid():
			addr, _ = netip.ParseAddr(strings.TrimSpace(l[len("c=IN IP4 "):]))
		case strings.HasPrefix(l, "m=audio ") && port < 0:
			f := strings.Fields(l)
			if len(f) >= 4 {
				port, _ = strconv.Atoi(f[1])
				pt, _ = strconv.Atoi(f[3])
			}
		}
	}
	if !addr.IsValid() || port <= 0 || port > 65535 {
		return netip.AddrPort{}, 0, fmt.Errorf("sdp: no audio address in %q", body)
	}
	return netip.AddrPortFrom(addr, uint16(port)), pt, nil
}

// sdpBody is the SDP of a bench endpoint: one audio stream at rtp with one
// G.711 payload type (0 PCMU or 8 PCMA).
func sdpBody(user string, rtp netip.AddrPort, pt int) string {
	enc := "PCMU"
	if pt == 8 {
		enc = "PCMA"
	}
	return fmt.Sprintf("v=0\r\no=%[1]s 1 1 IN IP4 %[2]s\r\ns=-\r\nc=IN IP4 %[2]s\r\nt=0 0\r\nm=audio %[3]d RTP/AVP %[4]d\r\na=rtpmap:%[4]d %[5]s/8000\r\na=ptime:20\r\na=sendrecv\r\n",
		user, rtp.Addr(), rtp.Port(), pt, enc)
}

// ---- UAC ----

// uac places calls from one UDP socket to the server.
type uac struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	server netip.AddrPort
	rtp    netip.AddrPort // the caller side's RTP address, in every offer
	pt     int
	tag    string // run-unique prefix of Call-IDs

	mu      sync.Mutex
	pending map[string]chan *sipMsg // Call-ID -> responses
	done    chan struct{}
	// byes counts calls gopbx hung up (a BYE to an established call): a
	// held call must not end by itself.
	byes atomic.Int64
}

// uacCall is an established call: where gopbx wants the caller's RTP.
type uacCall struct {
	RTP netip.AddrPort
}

func newUAC(local, server, rtp netip.AddrPort, pt int, tag string) (*uac, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("uac: %w", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	u := &uac{conn: c, local: local, server: server, rtp: rtp, pt: pt, tag: tag, pending: map[string]chan *sipMsg{}, done: make(chan struct{})}
	go u.read()
	return u, nil
}

func (u *uac) close() { u.conn.Close(); <-u.done }

func (u *uac) read() {
	defer close(u.done)
	buf := make([]byte, 65535)
	for {
		n, _, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := parseSIP(buf[:n])
		if err != nil {
			continue
		}
		if m.status() == 0 {
			// A request from the server (BYE on rtptimeout, OPTIONS): OK it.
			if m.method() == "BYE" {
				u.byes.Add(1)
			}
			u.reply(m, 200)
			continue
		}
		u.mu.Lock()
		ch := u.pending[m.hdr["call-id"]]
		u.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		} else if m.cseqMethod() == "INVITE" && m.status() >= 200 {
			// A retransmitted final response: our ACK was lost or is late.
			u.ack(m, 1)
		}
	}
}

func (u *uac) reply(req *sipMsg, code int) {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d OK\r\n", code)
	for _, v := range req.vias {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n", req.hdr["from"], req.hdr["to"], req.hdr["call-id"], req.hdr["cseq"])
	_, _ = u.conn.WriteToUDPAddrPort([]byte(b.String()), u.server)
}

// ack acknowledges a final response to INVITE: for a 2xx a new transaction
// to the Contact, for an error the same branch (hop by hop).
func (u *uac) ack(resp *sipMsg, seq int) {
	ruri := headerURI(resp.hdr["contact"])
	branch := "z9hG4bK-ack-" + token(resp.hdr["call-id"])
	if resp.status() >= 300 || ruri == "" {
		ruri = "sip:100@" + u.server.String()
		branch = viaBranch(resp.vias)
	}
	msg := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
		ruri, u.local, branch, resp.hdr["from"], resp.hdr["to"], resp.hdr["call-id"], seq)
	_, _ = u.conn.WriteToUDPAddrPort([]byte(msg), u.server)
}

// token turns a Call-ID into characters a Via branch may hold.
func token(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

func viaBranch(vias []string) string {
	if len(vias) == 0 {
		return ""
	}
	for _, p := range strings.Split(vias[0], ";") {
		if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == "branch" {
			return v
		}
	}
	return ""
}

// call places call i and waits for its final response (INVITE resent at
// 0.5, 1, 2 s until a provisional response; 32 s at most, bounded by ctx).
func (u *uac) call(ctx context.Context, i int) (uacCall, error) {
	callID := fmt.Sprintf("%s-%d@%s", u.tag, i, u.local.Addr())
	ch := make(chan *sipMsg, 8)
	u.mu.Lock()
	u.pending[callID] = ch
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.pending, callID)
		u.mu.Unlock()
	}()
	body := sdpBody("caller", u.rtp, u.pt)
	invite := fmt.Sprintf("INVITE sip:100@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[8]s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:c%[4]d@%[5]s>;tag=f%[4]d\r\nTo: <sip:100@%[1]s>\r\nCall-ID: %[3]s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:c%[4]d@%[2]s>\r\nContent-Type: application/sdp\r\nContent-Length: %[6]d\r\n\r\n%[7]s",
		u.server, u.local, callID, i, u.local.Addr(), len(body), body, token(callID))
	send := func() error {
		_, err := u.conn.WriteToUDPAddrPort([]byte(invite), u.server)
		return err
	}
	if err := send(); err != nil {
		return uacCall{}, err
	}
	resend := time.NewTimer(500 * time.Millisecond)
	defer resend.Stop()
	giveUp := time.NewTimer(32 * time.Second)
	defer giveUp.Stop()
	interval, provisional := 500*time.Millisecond, false
	for {
		select {
		case <-ctx.Done():
			return uacCall{}, ctx.Err()
		case <-giveUp.C:
			return uacCall{}, errors.New("no final response to INVITE in 32 s")
		case <-resend.C:
			if !provisional {
				_ = send()
				interval = min(2*interval, 4*time.Second)
				resend.Reset(interval)
			}
		case m := <-ch:
			if m.cseqMethod() != "INVITE" {
				continue
			}
			switch st := m.status(); {
			case st < 200:
				provisional = true
			case st < 300:
				u.ack(m, 1)
				rtp, _, err := sdpMedia(m.body)
				if err != nil {
					return uacCall{}, err
				}
				return uacCall{RTP: rtp}, nil
			default:
				u.ack(m, 1)
				return uacCall{}, fmt.Errorf("INVITE answered %s", m.start)
			}
		}
	}
}

// ---- UAS ----

// uas answers the calls gopbx places to the callee at once with 200 and
// its RTP address, and records where gopbx wants the callee's RTP.
type uas struct {
	conn  *net.UDPConn
	local netip.AddrPort
	rtp   netip.AddrPort
	pt    int

	mu    sync.Mutex
	legs  map[string]netip.AddrPort // Call-ID -> gopbx's RTP address
	order []netip.AddrPort
	done  chan struct{}
}

func newUAS(local, rtp netip.AddrPort, pt int) (*uas, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("uas: %w", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	s := &uas{conn: c, local: local, rtp: rtp, pt: pt, legs: map[string]netip.AddrPort{}, done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *uas) close() { s.conn.Close(); <-s.done }

// remotes is gopbx's RTP address of every call answered so far.
func (s *uas) remotes() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.order...)
}

func (s *uas) read() {
	defer close(s.done)
	buf := make([]byte, 65535)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := parseSIP(buf[:n])
		if err != nil || m.status() != 0 {
			continue
		}
		switch m.method() {
		case "INVITE":
			rtp, _, err := sdpMedia(m.body)
			if err != nil {
				s.respond(m, from, "488 Not Acceptable Here", "")
				continue
			}
			s.mu.Lock()
			if _, seen := s.legs[m.hdr["call-id"]]; !seen {
				s.legs[m.hdr["call-id"]] = rtp
				s.order = append(s.order, rtp)
			}
			s.mu.Unlock()
			// The same tag for a retransmission: derived from the Call-ID.
			s.respond(m, from, "200 OK", sdpBody("callee", s.rtp, s.pt))
		case "ACK":
		default: // BYE, OPTIONS, re-INVITE-less in-dialog requests
			s.respond(m, from, "200 OK", "")
		}
	}
}

func (s *uas) respond(req *sipMsg, to netip.AddrPort, status, body string) {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %s\r\n", status)
	for _, v := range req.vias {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	toHdr := req.hdr["to"]
	if headerTag(toHdr) == "" {
		h := fnv.New32a()
		h.Write([]byte(req.hdr["call-id"]))
		toHdr += fmt.Sprintf(";tag=u%08x", h.Sum32())
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n", req.hdr["from"], toHdr, req.hdr["call-id"], req.hdr["cseq"])
	if req.method() == "INVITE" {
		fmt.Fprintf(&b, "Contact: <sip:callee@%s>\r\n", s.local)
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	_, _ = s.conn.WriteToUDPAddrPort([]byte(b.String()), to)
}
