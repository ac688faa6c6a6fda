package sipserver

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestAppendTrying: the fast path's 100 Trying is byte for byte the one
// sip.NewResponseFromRequest and Send make, and leaves the request's top
// Via filled in as NewResponseFromRequest's later responses expect.
func TestAppendTrying(t *testing.T) {
	const body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	for _, tc := range []struct{ name, msg, ua string }{
		{"rport to fill", "INVITE sip:100@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-1;rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: \"A\" <sip:200@127.0.0.9>;tag=a1\r\n" +
			"To: <sip:100@127.0.0.1>\r\n" +
			"Call-ID: c1@127.0.0.9\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"Contact: <sip:200@127.0.0.9:5070>\r\n" +
			"Content-Type: application/sdp\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body, "gopbx"},
		{"proxied, no rport", "INVITE sip:100@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.8;branch=z9hG4bK-2;received=127.0.0.7\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-1;rport=5070\r\n" +
			"Record-Route: <sip:127.0.0.8;lr>\r\n" +
			"From: <sip:200@127.0.0.9>;tag=a1\r\n" +
			"To: <sip:100@127.0.0.1>;tag=reinvite\r\n" +
			"Call-ID: c2\r\n" +
			"CSeq: 7 INVITE\r\n" +
			"Timestamp: 54\r\n" +
			"Content-Length: 0\r\n\r\n", ""},
		{"compact", "INVITE sip:100@127.0.0.1 SIP/2.0\r\n" +
			"v: SIP/2.0/UDP 127.0.0.9:5070;rport;branch=z9hG4bK-3\r\n" +
			"f: <sip:200@127.0.0.9>;tag=a1\r\n" +
			"t: <sip:100@127.0.0.1>\r\n" +
			"i: c3\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"timestamp: 1.5\r\n" +
			"l: 0\r\n\r\n", "gopbx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parse := func() *sip.Request {
				m, err := sip.NewParser().ParseSIP([]byte(tc.msg))
				if err != nil {
					t.Fatal(err)
				}
				req := m.(*sip.Request)
				req.SetSource("127.0.0.6:5999")
				return req
			}
			want := sip.NewResponseFromRequest(parse(), 100, "Trying", nil)
			if tc.ua != "" {
				want.AppendHeader(sip.NewHeader("Server", tc.ua))
			}
			req := parse()
			got := appendTrying(nil, req, tc.ua)
			if w := marshalResponse(want); !bytes.Equal(got, w) {
				t.Fatalf("got\n%s\nwant\n%s", got, w)
			}
			// The 200 made afterwards has the Via it had before.
			ok := sip.NewResponseFromRequest(req, 200, "OK", nil)
			okWant := sip.NewResponseFromRequest(parse(), 200, "OK", nil)
			if g, w := ok.Via().String(), okWant.Via().String(); g != w {
				t.Fatalf("later response's Via %q, want %q", g, w)
			}
		})
	}
}
