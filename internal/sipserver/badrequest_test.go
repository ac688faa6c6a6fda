package sipserver

import (
	"strings"
	"testing"
)

func TestBadRequestResponse(t *testing.T) {
	base := "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\n"
	cases := []struct {
		name, msg, reason, want string
	}{
		{"cseq", "OPTIONS sip:x SIP/2.0\r\n" + base + "CSeq: -1 OPTIONS\r\n\r\n", "strconv", "SIP/2.0 400 Malformed CSeq Header"},
		{"scheme", "OPTIONS foo:x SIP/2.0\r\n" + base + "CSeq: 1 OPTIONS\r\n\r\n", "invalid uri scheme", "SIP/2.0 416 Unsupported URI Scheme"},
		{"bracket-ruri", "OPTIONS <sip:x> SIP/2.0\r\n" + base + "CSeq: 1 OPTIONS\r\n\r\n", "invalid uri scheme", "SIP/2.0 400 Malformed Request-URI"},
		{"short-body", "INVITE sip:x SIP/2.0\r\n" + base + "CSeq: 1 INVITE\r\nContent-Length: 50\r\n\r\nv=0", "reading body incomplete", "SIP/2.0 400 Content-Length Mismatch"},
		{"no-via", "OPTIONS sip:x SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", "x", ""},
		{"response", "SIP/2.0 200 OK\r\n" + base + "CSeq: 1 OPTIONS\r\n\r\n", "x", ""},
		{"bare-lf", "OPTIONS sip:x SIP/2.0\n" + strings.ReplaceAll(base, "\r\n", "\n") + "CSeq: x\n\n", "x", ""},
	}
	for _, c := range cases {
		got := badRequestResponse([]byte(c.msg), c.reason, "gopbx")
		if c.want == "" {
			if got != nil {
				t.Errorf("%s: answered %q, want no answer", c.name, got)
			}
			continue
		}
		first, _, _ := strings.Cut(string(got), "\r\n")
		if first != c.want {
			t.Errorf("%s: status line %q, want %q", c.name, first, c.want)
		}
		for _, h := range []string{"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx", "Call-ID: c1", "To: <sip:b@x>"} {
			if !strings.Contains(string(got), h+"\r\n") {
				t.Errorf("%s: %q not copied:\n%s", c.name, h, got)
			}
		}
	}
}
