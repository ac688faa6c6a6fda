package chansip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dtmf"
	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/media"
)

// SetMedia turns on anchored media: calls get RTP sessions from m unless
// both ends allow direct media. nil keeps SDP pass-through.
func (d *Driver) SetMedia(m *media.Manager) { d.media.Store(m) }

// anchors reports whether an inbound call from ep gets anchored media.
func (d *Driver) anchors(ep *endpoint.Endpoint) bool {
	return d.media.Load() != nil && (ep == nil || !ep.DirectMedia)
}

// mediaAddrs picks the address to bind RTP on (the one SIP used, so tests
// and multi-homed hosts stay apart) and the one to write into SDP.
func (d *Driver) mediaAddrs(local, remote string) (bind, advertise netip.Addr) {
	host, _, _ := net.SplitHostPort(local)
	bind, _ = netip.ParseAddr(host)
	adv, _ := d.srv.LocalAdvertised(local, remote)
	advertise, _ = netip.ParseAddr(adv)
	if !bind.IsValid() {
		bind = netip.IPv4Unspecified()
	}
	if !advertise.IsValid() {
		advertise = bind
	}
	return bind.Unmap(), advertise.Unmap()
}

// defaultAllow is the codec list of a leg without an endpoint's allow=
// (read only: a stream's Options share it).
var defaultAllow = []string{"ulaw", "alaw", "gsm", "g722", "opus"}

// newStream opens the media of leg l towards ep.
func (d *Driver) newStream(l *leg, ep *endpoint.Endpoint, local, remote string) (*media.Stream, error) {
	m := d.media.Load()
	bind, adv := d.mediaAddrs(local, remote)
	if ext, ok := d.srv.MediaAddress(local, remote); ok {
		adv = ext // behind NAT: externip / external_media_address
	}
	o := media.Options{SDPAddr: adv, DTMFMode: "rfc4733", Allow: defaultAllow, Log: l.log}
	if ep != nil {
		o.Allow, o.DTMFMode = ep.Allow, ep.DTMFMode
		o.SRTP = ep.MediaEncryption == "sdes"
		o.Timeout = seconds(ep.Extra, "rtp_timeout", "rtptimeout")
		o.HoldTimeout = seconds(ep.Extra, "rtp_timeout_hold", "rtpholdtimeout")
	}
	o.SendInfo = l.sendInfoDTMF
	return m.NewStream(bind, o, func() {
		if ch := l.ch; ch != nil {
			ch.Log().Warn("no RTP from the far end: hanging up (rtptimeout)")
			ch.Hangup(channel.CauseRecoveryOnTimerExpire)
		}
	})
}

// closeWith frees the stream when ch ends.
func closeWith(ch *channel.Channel, s *media.Stream) {
	// A callback, not a goroutine parked per call: a held call keeps 8 KB
	// less stack per leg.
	ch.OnHangup(func() { s.Close() })
}

// sendInfoDTMF sends a digit as SIP INFO application/dtmf-relay inside the
// leg's dialog (dtmfmode=info).
func (l *leg) sendInfoDTMF(digit byte, dur time.Duration) {
	req := sip.NewRequest(sip.INFO, sip.Uri{})
	req.SetBody(dtmf.FormatInfoRelay(digit, dur))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	switch {
	case l.in != nil:
		req.Recipient = l.in.InviteRequest.Contact().Address
		_, err = l.in.Do(ctx, req)
	case l.out != nil:
		req.Recipient = l.out.InviteResponse.Contact().Address
		_, err = l.out.Do(ctx, req)
	}
	if err != nil {
		l.log.Warn("dtmf info", "error", err)
	}
}

// infoDigit reads a DTMF INFO body (application/dtmf-relay, application/dtmf).
func infoDigit(req *sip.Request) (byte, time.Duration, bool) {
	ct := ""
	if h := req.GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	d, dur, err := dtmf.ParseInfo(ct, req.Body())
	return d, dur, err == nil && d != dtmf.Flash
}

// SetHoldHandler installs what happens when a leg puts its peer on hold or
// takes it off (music on hold); set before calls start.
func (d *Driver) SetHoldHandler(f func(ch *channel.Channel, held bool)) { d.onHold = f }

// seconds reads the first of keys as whole seconds (0 when unset or bad).
func seconds(extra map[string]string, keys ...string) time.Duration {
	for _, k := range keys {
		if v, ok := extra[k]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}
