package harness

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Response is the start of a SIP response read off the wire.
type Response struct {
	Status int
	Reason string
	Raw    string // the whole message as received
}

// Header returns the first value of header name (case-insensitive, compact
// forms not expanded), or "".
func (r Response) Header(name string) string {
	for _, line := range strings.Split(r.Raw, "\r\n")[1:] {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Options sends one SIP OPTIONS to addr ("ip:port") over transport ("udp"
// or "tcp") from the address local ("ip"), and returns the first final
// response. Over UDP the request is retransmitted every 250 ms until ctx
// ends.
func Options(ctx context.Context, transport, local, addr string) (Response, error) {
	switch transport {
	case "", "udp":
		return optionsUDP(ctx, local, addr)
	case "tcp":
		return optionsTCP(ctx, local, addr)
	}
	return Response{}, fmt.Errorf("harness: options: unknown transport %q", transport)
}

func optionsRequest(transport, laddr, raddr string) []byte {
	host, _, _ := net.SplitHostPort(laddr)
	return []byte("OPTIONS sip:" + raddr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + strings.ToUpper(transport) + " " + laddr + ";branch=z9hG4bK-h" + randHex(8) + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:harness@" + host + ">;tag=" + randHex(6) + "\r\n" +
		"To: <sip:" + raddr + ">\r\n" +
		"Call-ID: " + randHex(12) + "@harness\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Accept: application/sdp\r\n" +
		"User-Agent: gopbx-test-harness\r\n" +
		"Content-Length: 0\r\n\r\n")
}

func parseResponse(raw string) (Response, error) {
	first, _, _ := strings.Cut(raw, "\r\n")
	f := strings.SplitN(first, " ", 3)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return Response{}, fmt.Errorf("harness: not a SIP response: %q", first)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return Response{}, fmt.Errorf("harness: bad status line %q", first)
	}
	r := Response{Status: code, Raw: raw}
	if len(f) == 3 {
		r.Reason = f[2]
	}
	return r, nil
}

func optionsUDP(ctx context.Context, local, addr string) (Response, error) {
	c, err := net.ListenPacket("udp4", net.JoinHostPort(local, "0"))
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	ra, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return Response{}, err
	}
	req := optionsRequest("udp", c.LocalAddr().String(), addr)
	buf := make([]byte, 65535)
	var lastErr error
	for {
		if _, err := c.WriteTo(req, ra); err != nil {
			lastErr = err // ICMP refused shows up on the next read/write
		}
		deadline := time.Now().Add(250 * time.Millisecond)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = c.SetReadDeadline(deadline)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					lastErr = err
					// refused: nobody listens yet; do not spin
					time.Sleep(50 * time.Millisecond)
				}
				break
			}
			r, err := parseResponse(string(buf[:n]))
			if err != nil {
				lastErr = err
				continue
			}
			if r.Status >= 200 {
				return r, nil
			}
		}
		if ctx.Err() != nil {
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return Response{}, fmt.Errorf("harness: OPTIONS udp %s: no final response: %w", addr, lastErr)
		}
	}
}

func optionsTCP(ctx context.Context, local, addr string) (Response, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := c.Write(optionsRequest("tcp", c.LocalAddr().String(), addr)); err != nil {
		return Response{}, err
	}
	br := bufio.NewReader(c)
	for {
		raw, err := readStreamMessage(br)
		if err != nil {
			return Response{}, fmt.Errorf("harness: OPTIONS tcp %s: %w", addr, err)
		}
		r, err := parseResponse(raw)
		if err != nil {
			return Response{}, err
		}
		if r.Status >= 200 {
			return r, nil
		}
	}
}

// readStreamMessage reads one SIP message framed by Content-Length.
func readStreamMessage(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	clen := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if sb.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keepalive CRLF
		}
		sb.WriteString(line)
		t := strings.TrimRight(line, "\r\n")
		if t == "" {
			break
		}
		if k, v, ok := strings.Cut(t, ":"); ok {
			k = strings.TrimSpace(k)
			if strings.EqualFold(k, "Content-Length") || k == "l" {
				clen, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(br, body); err != nil {
		return "", err
	}
	sb.Write(body)
	return sb.String(), nil
}

// WaitSIP sends OPTIONS to addr over transport until a 200 arrives or
// timeout passes. The error tells the last response or failure.
func WaitSIP(transport, local, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return waitSIP(ctx, transport, local, addr, nil)
}

// waitSIP is WaitSIP that also gives up when dead is closed (the server
// process exited).
func waitSIP(ctx context.Context, transport, local, addr string, dead <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if dead != nil {
		go func() {
			select {
			case <-dead:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	var last string
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		r, err := Options(actx, transport, local, addr)
		cancel()
		if err == nil && r.Status == 200 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("answered %d %s, want 200", r.Status, r.Reason)
		}
		select {
		case <-dead:
			return fmt.Errorf("harness: process exited before answering OPTIONS on %s/%s (last: %s)", transport, addr, last)
		default:
		}
		select {
		case <-dead:
			return fmt.Errorf("harness: process exited before answering OPTIONS on %s/%s (last: %s)", transport, addr, last)
		case <-ctx.Done():
			return fmt.Errorf("harness: no 200 to OPTIONS on %s/%s: %s", transport, addr, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
