package media

import (
	"log/slog"
	"net/netip"
	"testing"
)

// FuzzSDP feeds arbitrary bodies to the parser and to a stream's offer and
// answer handling: nothing may panic, and an accepted offer must yield an
// answer that parses again.
func FuzzSDP(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 9\r\nc=IN IP4 0.0.0.0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"))
	f.Add([]byte("v=0\r\nm=video 1 RTP/AVP 96\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 97\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:97 G722/8000\r\na=fmtp:96 useinbandfec=1\r\n"))
	m, err := NewManager(Config{Start: 31000, End: 31099}, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseSDP(body)
		if err == nil {
			_ = d.Event()
			_ = d.RTPAddr()
		}
		for _, srtp := range []bool{false, true} {
			s, err := m.NewStream(netip.MustParseAddr("127.0.0.1"), Options{Allow: []string{"all"}, SRTP: srtp}, nil)
			if err != nil {
				t.Skip(err)
			}
			if ans, err := s.AcceptOffer(body); err == nil {
				if _, err := ParseSDP(ans); err != nil {
					t.Fatalf("our answer does not parse: %v\n%s", err, ans)
				}
			}
			_ = s.AcceptAnswer(body)
			s.Close()
		}
	})
}
