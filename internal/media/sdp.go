package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/gopbx/gopbx/internal/codec"
)

// Directions of an SDP media stream (RFC 3264 §5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// Format is one payload type of an m= line.
type Format struct {
	PT       uint8
	Encoding string // PCMU, telephone-event...
	Clock    int
	Channels int
	Fmtp     string
}

// Desc is the audio part of a session description.
type Desc struct {
	Addr      netip.Addr
	Port      int
	Proto     string // RTP/AVP, RTP/SAVP
	Formats   []Format
	Direction string
	Ptime     int
	RTCPMux   bool
	Crypto    []string // a=crypto values (SDES)
}

// ErrNoAudio means the description has no usable audio stream.
var ErrNoAudio = errors.New("media: sdp has no audio stream")

// ParseSDP reads the first audio stream of an SDP body.
func ParseSDP(b []byte) (*Desc, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(b)); err != nil {
		return nil, fmt.Errorf("media: sdp: %w", err)
	}
	return DescOf(&sd)
}

// DescOf reads the first audio stream of a parsed session description
// (for a caller that has parsed it already: parsing is most of the cost).
func DescOf(sd *sdp.SessionDescription) (*Desc, error) {
	var sessAddr netip.Addr
	if sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil {
		sessAddr, _ = netip.ParseAddr(sd.ConnectionInformation.Address.Address)
	}
	sessDir := SendRecv
	for _, a := range sd.Attributes {
		switch a.Key {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			sessDir = a.Key
		}
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		d := &Desc{Addr: sessAddr, Port: md.MediaName.Port.Value, Direction: sessDir}
		d.Proto = strings.Join(md.MediaName.Protos, "/")
		if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
			if a, err := netip.ParseAddr(md.ConnectionInformation.Address.Address); err == nil {
				d.Addr = a
			}
		}
		rtpmap := map[uint8]Format{}
		fmtp := map[uint8]string{}
		for _, a := range md.Attributes {
			switch a.Key {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				d.Direction = a.Key
			case "ptime":
				d.Ptime, _ = strconv.Atoi(strings.TrimSpace(a.Value))
			case "rtcp-mux":
				d.RTCPMux = true
			case "crypto":
				d.Crypto = append(d.Crypto, a.Value)
			case "rtpmap":
				pt, rest, ok := strings.Cut(a.Value, " ")
				n, err := strconv.Atoi(pt)
				if !ok || err != nil || n < 0 || n > 127 {
					continue
				}
				parts := strings.Split(strings.TrimSpace(rest), "/")
				f := Format{PT: uint8(n), Encoding: parts[0], Channels: 1}
				if len(parts) > 1 {
					f.Clock, _ = strconv.Atoi(parts[1])
				}
				if len(parts) > 2 {
					f.Channels, _ = strconv.Atoi(parts[2])
				}
				rtpmap[uint8(n)] = f
			case "fmtp":
				pt, rest, ok := strings.Cut(a.Value, " ")
				if n, err := strconv.Atoi(pt); ok && err == nil && n >= 0 && n < 128 {
					fmtp[uint8(n)] = strings.TrimSpace(rest)
				}
			}
		}
		for _, f := range md.MediaName.Formats {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			pt := uint8(n)
			ft, ok := rtpmap[pt]
			if !ok {
				ft, ok = staticFormat(pt)
				if !ok {
					continue
				}
			}
			ft.Fmtp = fmtp[pt]
			d.Formats = append(d.Formats, ft)
		}
		if d.Addr.IsUnspecified() && d.Direction == SendRecv {
			d.Direction = SendOnly // c=0.0.0.0: RFC 2543 hold
		}
		return d, nil
	}
	return nil, ErrNoAudio
}

// staticFormat is RFC 3551's table for the payload types we know.
func staticFormat(pt uint8) (Format, bool) {
	switch pt {
	case 0:
		return Format{PT: 0, Encoding: "PCMU", Clock: 8000, Channels: 1}, true
	case 3:
		return Format{PT: 3, Encoding: "GSM", Clock: 8000, Channels: 1}, true
	case 8:
		return Format{PT: 8, Encoding: "PCMA", Clock: 8000, Channels: 1}, true
	case 9:
		return Format{PT: 9, Encoding: "G722", Clock: 8000, Channels: 1}, true
	case 13:
		return Format{PT: 13, Encoding: "CN", Clock: 8000, Channels: 1}, true
	}
	return Format{}, false
}

// Event returns the telephone-event/8000 payload type, or -1.
func (d *Desc) Event() int {
	for _, f := range d.Formats {
		if strings.EqualFold(f.Encoding, "telephone-event") && (f.Clock == 8000 || f.Clock == 0) {
			return int(f.PT)
		}
	}
	return -1
}

// RTPAddr is where the description says to send RTP.
func (d *Desc) RTPAddr() netip.AddrPort {
	return netip.AddrPortFrom(d.Addr.Unmap(), uint16(d.Port))
}

// allowed reports whether an endpoint's allow list (Asterisk codec names,
// in preference order; "all" allows everything) lets c through.
func allowed(allow []string, c codec.Codec) bool {
	for _, a := range allow {
		if strings.EqualFold(a, "all") || strings.EqualFold(a, c.Name()) {
			return true
		}
		if lc, ok := codec.Lookup(a); ok && lc.Name() == c.Name() {
			return true
		}
	}
	return false
}

// offerCodecs lists what we offer to an endpoint: its allow order filtered
// to the codecs compiled in, with prefer moved first when allowed (so the
// two legs of a call can share a codec and skip transcoding).
func offerCodecs(allow []string, prefer codec.Codec) []codec.Codec {
	var out []codec.Codec
	seen := map[string]bool{}
	add := func(c codec.Codec) {
		if c != nil && !seen[c.Name()] && allowed(allow, c) {
			seen[c.Name()] = true
			out = append(out, c)
		}
	}
	add(prefer)
	for _, a := range allow {
		if strings.EqualFold(a, "all") {
			for _, c := range codec.All() {
				add(c)
			}
			continue
		}
		if c, ok := codec.Lookup(a); ok {
			add(c)
		}
	}
	return out
}

// sdpBuilder writes our session descriptions.
type sdpBuilder struct {
	id      uint64
	version uint64
}

// build renders an SDP with one audio stream.
func (sb *sdpBuilder) build(addr netip.Addr, port int, proto string, formats []Format, dir string, crypto string, extra ...string) []byte {
	sb.version++
	ip := "IP4"
	if addr.Is6() && !addr.Is4In6() {
		ip = "IP6"
	}
	a := addr.Unmap().String()
	// Appended to one slice: a strings.Builder, its string copied to
	// []byte, and the concatenations and Itoa calls per line cost a dozen
	// allocations per SDP.
	b := make([]byte, 0, 400)
	b = append(b, "v=0\r\no=gopbx "...)
	b = strconv.AppendUint(b, sb.id, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, sb.version, 10)
	b = append(b, " IN "...)
	b = append(b, ip...)
	b = append(b, ' ')
	b = append(b, a...)
	b = append(b, "\r\ns=gopbx\r\nc=IN "...)
	b = append(b, ip...)
	b = append(b, ' ')
	b = append(b, a...)
	b = append(b, "\r\nt=0 0\r\nm=audio "...)
	b = strconv.AppendInt(b, int64(port), 10)
	b = append(b, ' ')
	b = append(b, proto...)
	for _, f := range formats {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(f.PT), 10)
	}
	b = append(b, "\r\n"...)
	for _, f := range formats {
		b = append(b, "a=rtpmap:"...)
		b = strconv.AppendUint(b, uint64(f.PT), 10)
		b = append(b, ' ')
		b = append(b, f.Encoding...)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(f.Clock), 10)
		if f.Channels > 1 {
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(f.Channels), 10)
		}
		b = append(b, "\r\n"...)
		if f.Fmtp != "" {
			b = append(b, "a=fmtp:"...)
			b = strconv.AppendUint(b, uint64(f.PT), 10)
			b = append(b, ' ')
			b = append(b, f.Fmtp...)
			b = append(b, "\r\n"...)
		}
	}
	if crypto != "" {
		b = append(b, "a=crypto:"...)
		b = append(b, crypto...)
		b = append(b, "\r\n"...)
	}
	for _, a := range extra {
		b = append(b, "a="...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "a=ptime:20\r\na=maxptime:150\r\na="...)
	b = append(b, dir...)
	b = append(b, "\r\n"...)
	return b
}

func formatOf(c codec.Codec, pt uint8) Format {
	return Format{PT: pt, Encoding: c.Encoding(), Clock: c.ClockRate(), Channels: c.Channels(), Fmtp: c.Fmtp()}
}

// answerDirection mirrors the offerer's direction (RFC 3264 §6.1).
func answerDirection(offer string) string {
	switch offer {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}
