package sipconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// peerOpt handles one peer option. general marks the options [general]
// accepts as a default for every peer; repeat marks repeatable options,
// whose raw values are joined in Peer.Options. A nil fn is an option that
// is recognised and kept raw in Options only.
type peerOpt struct {
	fn      func(l *loader, p *Peer, v config.Var) error
	general bool
	repeat  bool
}

func str(set func(p *Peer, s string)) func(*loader, *Peer, config.Var) error {
	return func(_ *loader, p *Peer, v config.Var) error {
		set(p, v.Value)
		return nil
	}
}

var peerOpts = map[string]peerOpt{
	"type": {fn: str(func(p *Peer, s string) { p.Type = strings.ToLower(strings.TrimSpace(s)) })},
	"host": {fn: func(_ *loader, p *Peer, v config.Var) error {
		if strings.EqualFold(strings.TrimSpace(v.Value), "dynamic") {
			p.Dynamic, p.Host = true, ""
			return nil
		}
		h, port, err := config.SplitHostPort(v.Value)
		if err != nil {
			return fmt.Errorf("host: %w", err)
		}
		p.Dynamic, p.Host = false, h
		if port != 0 {
			p.Port = port
		}
		return nil
	}},
	"port": {fn: func(_ *loader, p *Peer, v config.Var) error {
		n, err := intValue(v, 1)
		if err != nil || n > 65535 {
			return fmt.Errorf("port: %q is not a port number", v.Value)
		}
		p.Port = n
		return nil
	}},
	"defaultip":     {fn: str(func(p *Peer, s string) { p.DefaultIP = s })},
	"secret":        {fn: str(func(p *Peer, s string) { p.Secret = s })},
	"md5secret":     {fn: str(func(p *Peer, s string) { p.MD5Secret = strings.ToLower(s) })},
	"remotesecret":  {fn: str(func(p *Peer, s string) { p.RemoteSecret = s })},
	"username":      {fn: str(func(p *Peer, s string) { p.Username, p.DefaultUser = s, s })},
	"defaultuser":   {fn: str(func(p *Peer, s string) { p.DefaultUser = s })},
	"fromuser":      {fn: str(func(p *Peer, s string) { p.FromUser = s })},
	"fromdomain":    {fn: str(func(p *Peer, s string) { p.FromDomain = s })},
	"context":       {fn: str(func(p *Peer, s string) { p.Context = s }), general: true},
	"callerid":      {fn: str(func(p *Peer, s string) { p.CallerID = s })},
	"accountcode":   {fn: str(func(p *Peer, s string) { p.AccountCode = s })},
	"language":      {fn: str(func(p *Peer, s string) { p.Language = s }), general: true},
	"mohsuggest":    {fn: str(func(p *Peer, s string) { p.MOHSuggest = s }), general: true},
	"mohinterpret":  {fn: str(func(p *Peer, s string) { p.MOHInterpret = s }), general: true},
	"outboundproxy": {fn: str(func(p *Peer, s string) { p.OutboundProxy = s })},
	"nat": {general: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		n, err := parseNAT(v.Value)
		p.NAT = n
		return err
	}},
	"insecure": {general: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		ins, err := parseInsecure(v.Value)
		if ins != nil || strings.TrimSpace(v.Value) != "" {
			p.Insecure = ins
		}
		return err
	}},
	"qualify": {general: true, fn: func(l *loader, p *Peer, v config.Var) error {
		val := strings.TrimSpace(v.Value)
		switch {
		case config.IsFalse(val):
			p.Qualify = 0
		case config.IsTrue(val) && val != "1":
			p.Qualify = DefaultQualifyMaxMS
			if l.defaultQualify > 0 {
				p.Qualify = l.defaultQualify
			}
		default:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				p.Qualify = 0
				return fmt.Errorf("qualify: want yes, no or a number of milliseconds, not %q", v.Value)
			}
			p.Qualify = time.Duration(n) * time.Millisecond
		}
		return nil
	}},
	"qualifyfreq": {general: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		d, err := secondsValue(v, 1)
		if err != nil {
			p.QualifyFreq = DefaultQualifyFreq
			return err
		}
		p.QualifyFreq = d
		return nil
	}},
	"dtmfmode": {general: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		m := strings.ToLower(strings.TrimSpace(v.Value))
		switch m {
		case "rfc2833", "info", "shortinfo", "inband", "auto":
			p.DTMFMode = m
			return nil
		}
		p.DTMFMode = "rfc2833"
		return fmt.Errorf("dtmfmode: unknown mode %q, using rfc2833", v.Value)
	}},
	"directmedia": {general: true, fn: setDirectMedia},
	"canreinvite": {general: true, fn: setDirectMedia},
	"allow": {general: true, repeat: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		return applyCodecs(p, v, true)
	}},
	"disallow": {general: true, repeat: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		return applyCodecs(p, v, false)
	}},
	"transport": {general: true, fn: func(_ *loader, p *Peer, v config.Var) error {
		ts, err := parseTransports(v.Value)
		if len(ts) > 0 {
			p.Transports = ts
		}
		return err
	}},
	"call-limit": {fn: func(_ *loader, p *Peer, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil {
			return fmt.Errorf("call-limit: %q is not a number", v.Value)
		}
		p.CallLimit = max(n, 0)
		return nil
	}},
	"deny":   {repeat: true, fn: func(_ *loader, p *Peer, v config.Var) error { return addACL(p, v, false) }},
	"permit": {repeat: true, fn: func(_ *loader, p *Peer, v config.Var) error { return addACL(p, v, true) }},
}

func init() {
	// Options chan_sip knows that gopbx keeps raw in Peer.Options.
	for _, name := range strings.Fields(`
		description auth mwi_from fullname trunkname cid_number cid_tag recordonfeature
		recordofffeature outofcall_message_context subscribecontext usereqphone acl
		contactpermit contactdeny contactacl directmediapermit directmediadeny
		directmediaacl callingpres tonezone regexten callbackextension amaflags
		maxforwards parkinglot rtp_engine mailbox hasvoicemail subscribemwi vmexten
		callgroup pickupgroup namedcallgroup namedpickupgroup allowtransfer
		preferred_codec_only autoframing rtptimeout rtpholdtimeout rtpkeepalive timert1
		timerb setvar header maxcallbitrate session-timers session-expires session-minse
		session-refresher disallowed_methods unsolicited_mailbox use_q850_reason
		encryption encryption_taglen snom_aoc_enabled avpf icesupport
		ignore_requested_pref discard_remote_hold_retrieval force_avp keepalive
		callcounter busylevel regseconds useragent lastms ipaddr fullcontact name
		regserver sendrpid trustrpid rpid_update rpid_immediate progressinband
		promiscredir useclientcode allowoverlap allowsubscribe ignoresdpversion faxdetect
		t38pt_udptl t38pt_usertpsource videosupport textsupport buggymwi g726nonstandard
		rfc2833compensate supportpath trust_id_outbound rtcp_mux constantssrc
		dtlsenable dtlsverify dtlsrekey dtlscertfile dtlsprivatekey dtlscipher dtlscafile
		dtlscapath dtlssetup dtlsfingerprint dtlsautogeneratecert
		cc_agent_policy cc_monitor_policy cc_offer_timer ccnr_available_timer
		ccbs_available_timer cc_recall_timer cc_max_agents cc_max_monitors
		cc_callback_macro cc_callback_sub cc_max_requests cc_agent_dialstring`) {
		if _, ok := peerOpts[name]; ok {
			continue
		}
		o := peerOpt{}
		switch name {
		case "setvar", "header", "mailbox", "acl", "contactacl", "directmediaacl",
			"contactpermit", "contactdeny", "directmediapermit", "directmediadeny", "auth":
			o.repeat = true
		}
		// The options handle_common_options and set_peer_defaults take
		// from [general] as defaults for every peer.
		switch name {
		case "sendrpid", "trustrpid", "rpid_update", "rpid_immediate", "progressinband",
			"promiscredir", "useclientcode", "allowoverlap", "allowsubscribe",
			"ignoresdpversion", "faxdetect", "t38pt_udptl", "t38pt_usertpsource",
			"videosupport", "textsupport", "buggymwi", "g726nonstandard",
			"rfc2833compensate", "supportpath", "trust_id_outbound", "rtcp_mux",
			"keepalive", "vmexten", "maxcallbitrate", "rtptimeout", "rtpholdtimeout",
			"rtpkeepalive", "allowtransfer", "autoframing", "tonezone", "timert1", "timerb",
			"session-timers", "session-expires", "session-minse", "session-refresher",
			"disallowed_methods", "preferred_codec_only", "icesupport", "parkinglot",
			"use_q850_reason", "snom_aoc_enabled", "discard_remote_hold_retrieval",
			"dtlsenable", "dtlsverify", "dtlsrekey", "dtlscertfile", "dtlsprivatekey",
			"dtlscipher", "dtlscafile", "dtlscapath", "dtlssetup", "dtlsfingerprint",
			"dtlsautogeneratecert", "callcounter", "maxforwards", "subscribecontext",
			"mwi_from", "recordonfeature", "recordofffeature", "outofcall_message_context",
			"usereqphone", "contactpermit", "contactdeny", "contactacl", "auth":
			o.general = true
		}
		peerOpts[name] = o
	}
}

// generalOpts are the [general] options; a nil function means the option is
// recognised and kept raw in General.Options only.
var generalOpts = map[string]func(l *loader, g *General, v config.Var){
	"context": func(_ *loader, g *General, v config.Var) { g.Context = v.Value },
	"allowguest": func(l *loader, g *General, v config.Var) {
		b, err := boolValue(v)
		l.warnErr(v, err)
		g.AllowGuest = b
	},
	"alwaysauthreject": func(l *loader, g *General, v config.Var) {
		b, err := boolValue(v)
		l.warnErr(v, err)
		g.AlwaysAuthReject = b
	},
	"bindaddr":    setBindAddr,
	"udpbindaddr": setBindAddr,
	"bindport": func(l *loader, _ *General, v config.Var) {
		n, err := intValue(v, 1)
		if err != nil || n > 65535 {
			l.warnf(v.Pos, "bindport: %q is not a port number", v.Value)
			return
		}
		l.bindportOpt = n
	},
	"tcpenable": func(l *loader, g *General, v config.Var) {
		b, err := boolValue(v)
		l.warnErr(v, err)
		g.TCPEnable = b
	},
	"tcpbindaddr": func(l *loader, _ *General, v config.Var) {
		if _, _, err := config.SplitHostPort(v.Value); err != nil {
			l.warnf(v.Pos, "tcpbindaddr: %v", err)
			return
		}
		l.tcpBind = v.Value
	},
	"tlsenable": setTLSEnable, "sslenable": setTLSEnable,
	"tlsbindaddr": setTLSBind, "sslbindaddr": setTLSBind,
	"tlscertfile":     setTLSCert,
	"sslcert":         setTLSCert,
	"tlsprivatekey":   setTLSKey,
	"sslprivatekey":   setTLSKey,
	"tlscafile":       setTLSCA,
	"sslcafile":       setTLSCA,
	"tlsverifyclient": setTLSVerifyClient, "sslverifyclient": setTLSVerifyClient,
	"tlsdontverifyserver": setTLSDontVerify, "ssldontverifyserver": setTLSDontVerify,
	"tlscipher":       func(_ *loader, g *General, v config.Var) { g.TLSCipher = v.Value },
	"sslcipher":       func(_ *loader, g *General, v config.Var) { g.TLSCipher = v.Value },
	"tlsclientmethod": func(_ *loader, g *General, v config.Var) { g.TLSMethod = v.Value },
	"sslclientmethod": func(_ *loader, g *General, v config.Var) { g.TLSMethod = v.Value },
	"externaddr":      setExternAddr,
	"externip":        setExternAddr,
	"externhost":      func(_ *loader, g *General, v config.Var) { g.ExternHost = v.Value },
	"externrefresh": func(l *loader, g *General, v config.Var) {
		d, err := secondsValue(v, 1)
		if l.warnErr(v, err) {
			return
		}
		g.ExternRefresh = d
	},
	"externtcpport": func(l *loader, g *General, v config.Var) { g.ExternTCPPort = l.port(v, g.ExternTCPPort) },
	"externtlsport": func(l *loader, g *General, v config.Var) { g.ExternTLSPort = l.port(v, g.ExternTLSPort) },
	"localnet": func(l *loader, g *General, v config.Var) {
		for _, item := range config.SplitList(v.Value) {
			pfx, err := config.ParsePrefix(item)
			if err != nil {
				l.warnf(v.Pos, "localnet: %v", err)
				continue
			}
			g.LocalNets = append(g.LocalNets, pfx)
		}
	},
	"media_address":  func(_ *loader, g *General, v config.Var) { g.MediaAddress = v.Value },
	"useragent":      func(_ *loader, g *General, v config.Var) { g.UserAgent = v.Value },
	"realm":          func(_ *loader, g *General, v config.Var) { g.Realm = v.Value },
	"minexpiry":      setExpiry(func(g *General) *time.Duration { return &g.MinExpiry }, DefaultMinExpiry),
	"minexpirey":     setExpiry(func(g *General) *time.Duration { return &g.MinExpiry }, DefaultMinExpiry),
	"maxexpiry":      setExpiry(func(g *General) *time.Duration { return &g.MaxExpiry }, DefaultMaxExpiry),
	"maxexpirey":     setExpiry(func(g *General) *time.Duration { return &g.MaxExpiry }, DefaultMaxExpiry),
	"defaultexpiry":  setExpiry(func(g *General) *time.Duration { return &g.DefaultExpiry }, DefaultDefaultExpiry),
	"defaultexpirey": setExpiry(func(g *General) *time.Duration { return &g.DefaultExpiry }, DefaultDefaultExpiry),
	"qualify": func(l *loader, g *General, _ config.Var) {
		// The peer handler already parsed it into PeerDefaults.
		l.defaultQualify = g.PeerDefaults.Qualify
	},
	"qualifyfreq": func(_ *loader, g *General, _ config.Var) { g.QualifyFreq = g.PeerDefaults.QualifyFreq },
	"srvlookup": func(l *loader, g *General, v config.Var) {
		b, err := boolValue(v)
		l.warnErr(v, err)
		g.SRVLookup = b
	},
	"callerid":   func(_ *loader, g *General, v config.Var) { g.CallerID = v.Value },
	"fromdomain": func(_ *loader, g *General, v config.Var) { g.FromDomain = v.Value },
	"domain": func(_ *loader, g *General, v config.Var) {
		// domain=name[,context]
		d, _, _ := strings.Cut(v.Value, ",")
		if d = strings.TrimSpace(d); d != "" {
			g.Domains = append(g.Domains, d)
		}
	},
	"regcontext": func(_ *loader, g *General, v config.Var) { g.RegContext = v.Value },
	"register": func(l *loader, g *General, v config.Var) {
		r, err := ParseRegister(v.Value)
		if err != nil {
			l.warnf(v.Pos, "%v; registration ignored", err)
			return
		}
		r.Pos = v.Pos
		g.Registers = append(g.Registers, r)
	},
}

// repeatableGeneral are [general] options whose raw values are joined.
var repeatableGeneral = map[string]bool{
	"allow": true, "disallow": true, "localnet": true, "register": true, "domain": true,
	"mwi": true, "contactpermit": true, "contactdeny": true, "contactacl": true, "auth": true,
}

func init() {
	for _, name := range strings.Fields(`
		tlscapath sslcapath tlsservercipherorder tlsdisablev1 tlsdisablev11 tlsdisablev12
		recordonfeature recordofffeature subscribecontext callcounter domainsasrealm
		sdpsession sdpowner allowtransfer rtcachefriends rtsavesysname rtsavepath rtupdate
		ignoreregexpire timert1 timerb t1min dynamic_exclude_static dynamic_excludes_static
		contactpermit contactdeny contactacl rtautoclear usereqphone prematuremedia
		relaxdtmf vmexten rtptimeout rtpholdtimeout rtpkeepalive compactheaders
		notifymimetype directrtpsetup notifyringing notifyhold notifycid
		auth_options_requests auth_message_requests accept_outofcall_message
		outofcall_message_context tonezone regextenonqualify legacy_useroption_parsing
		send_diversion mwi_from outboundproxy autocreatepeer match_auth_username pedantic
		submaxexpirey submaxexpiry subminexpirey subminexpiry mwiexpiry mwiexpirey
		tcpauthtimeout tcpauthlimit sipdebug dumphistory recordhistory registertimeout
		registerattempts register_retry_403 rtpbindaddr preferred_codec_only autoframing
		allowexternaldomains autodomain mwi tos_sip tos_audio tos_video tos_text cos_sip
		cos_audio cos_video cos_text keepalive authfailureevents maxcallbitrate
		matchexternaddrlocally matchexterniplocally session-timers session-expires
		session-minse session-refresher storesipcause qualifygap qualifypeers
		disallowed_methods shrinkcallerid use_q850_reason maxforwards
		subscribe_network_change_event snom_aoc_enabled icesupport
		discard_remote_hold_retrieval parkinglot refer_addheaders websocket_write_timeout
		websocket_enabled auth allowsubscribe allowoverlap
		jbenable jbforce jbmaxsize jbresyncthreshold jbimpl jbtargetextra jblog`) {
		if _, ok := generalOpts[name]; !ok {
			generalOpts[name] = nil
		}
	}
}

func (l *loader) warnErr(v config.Var, err error) bool {
	if err != nil {
		l.warnf(v.Pos, "%v", err)
		return true
	}
	return false
}

func (l *loader) port(v config.Var, old int) int {
	n, err := intValue(v, 1)
	if err != nil || n > 65535 {
		l.warnf(v.Pos, "%s: %q is not a port number", v.Name, v.Value)
		return old
	}
	return n
}

func setBindAddr(l *loader, _ *General, v config.Var) {
	h, p, err := config.SplitHostPort(v.Value)
	if err != nil {
		l.warnf(v.Pos, "%s: %v", v.Name, err)
		return
	}
	l.bindHost, l.bindPort = h, p
}

func setTLSEnable(l *loader, g *General, v config.Var) {
	b, err := boolValue(v)
	l.warnErr(v, err)
	g.TLSEnable = b
}

// The TLS file options keep their line: a file that cannot be read is a
// configuration error reported there (pbxconf loads them).
func setTLSCert(_ *loader, g *General, v config.Var) { g.TLSCertFile, g.TLSCertPos = v.Value, v.Pos }
func setTLSKey(_ *loader, g *General, v config.Var)  { g.TLSPrivKey, g.TLSKeyPos = v.Value, v.Pos }
func setTLSCA(_ *loader, g *General, v config.Var)   { g.TLSCAFile, g.TLSCAPos = v.Value, v.Pos }

func setTLSVerifyClient(l *loader, g *General, v config.Var) {
	b, err := boolValue(v)
	l.warnErr(v, err)
	g.TLSVerifyClient = b
}

func setTLSDontVerify(l *loader, g *General, v config.Var) {
	b, err := boolValue(v)
	l.warnErr(v, err)
	g.TLSDontVerifyServer = b
}

func setTLSBind(l *loader, _ *General, v config.Var) {
	if _, _, err := config.SplitHostPort(v.Value); err != nil {
		l.warnf(v.Pos, "%s: %v", v.Name, err)
		return
	}
	l.tlsBind = v.Value
}

func setExternAddr(l *loader, g *General, v config.Var) {
	if _, _, err := config.SplitHostPort(v.Value); err != nil {
		l.warnf(v.Pos, "%s: %v", v.Name, err)
		return
	}
	g.ExternAddr = strings.TrimSpace(v.Value)
}

func setExpiry(field func(*General) *time.Duration, def time.Duration) func(*loader, *General, config.Var) {
	return func(l *loader, g *General, v config.Var) {
		d, err := secondsValue(v, 1)
		if err != nil {
			l.warnf(v.Pos, "%v; using %d", err, int(def/time.Second))
			d = def
		}
		*field(g) = d
	}
}

func setDirectMedia(_ *loader, p *Peer, v config.Var) error {
	switch {
	case config.IsTrue(v.Value):
		p.DirectMedia = true
		return nil
	case config.IsFalse(v.Value):
		p.DirectMedia = false
		return nil
	}
	p.DirectMedia = false
	for _, w := range strings.Split(v.Value, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "update", "nonat", "outgoing":
			p.DirectMedia = true
		default:
			return fmt.Errorf("%s: unknown mode %q", v.Name, w)
		}
	}
	return nil
}

func applyCodecs(p *Peer, v config.Var, allow bool) error {
	var unknown []string
	p.Allow, unknown = config.ApplyCodecs(p.Allow, v.Value, allow)
	if len(unknown) > 0 {
		return fmt.Errorf("%s: unknown codec %s", v.Name, strings.Join(unknown, ", "))
	}
	return nil
}

func addACL(p *Peer, v config.Var, permit bool) error {
	rules, err := config.ParseACL(permit, v.Value)
	if err != nil {
		return dropPeer{fmt.Errorf("bad ACL %s=%s: %w", v.Name, v.Value, err)}
	}
	p.ACL = append(p.ACL, rules...)
	return nil
}

// parseNAT is chan_sip's sip_parse_nat_option.
func parseNAT(value string) (NAT, error) {
	var n NAT
	for _, w := range strings.Split(value, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		switch {
		case config.IsFalse(w), w == "never":
			return NAT{}, nil
		case w == "yes":
			return NAT{ForceRport: true, Comedia: true}, fmt.Errorf("nat=yes is deprecated; use nat=force_rport,comedia")
		case w == "force_rport":
			if !n.AutoForceRport {
				n.ForceRport = true
			}
		case w == "comedia":
			if !n.AutoComedia {
				n.Comedia = true
			}
		case w == "auto_force_rport":
			n.AutoForceRport, n.ForceRport = true, false
		case w == "auto_comedia":
			n.AutoComedia, n.Comedia = true, false
		case w == "route":
			// Asterisk 1.8: NAT assumed, no rport: symmetric media only.
			n.Comedia = true
		default:
			return n, fmt.Errorf("nat: unknown mode %q", w)
		}
	}
	return n, nil
}

// parseInsecure is chan_sip's set_insecure_flags, plus the pre-1.4 forms
// "very" (port,invite) and "yes" (port) that old configurations still use.
func parseInsecure(value string) ([]string, error) {
	value = strings.TrimSpace(value)
	if value == "" || config.IsFalse(value) {
		return nil, nil
	}
	var out []string
	add := func(s string) {
		for _, x := range out {
			if x == s {
				return
			}
		}
		out = append(out, s)
	}
	var err error
	for _, w := range strings.Split(value, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "port":
			add("port")
		case "invite":
			add("invite")
		case "very":
			add("port")
			add("invite")
			err = fmt.Errorf("insecure=very is deprecated; use insecure=port,invite")
		case "yes":
			add("port")
			err = fmt.Errorf("insecure=yes is deprecated; use insecure=port")
		default:
			err = fmt.Errorf("insecure: unknown mode %q", w)
		}
	}
	return out, err
}

// parseTransports parses transport=udp,tcp; the first is the default.
func parseTransports(value string) ([]string, error) {
	var out []string
	var err error
	for _, w := range config.SplitList(value) {
		w = strings.ToLower(w)
		var t string
		switch {
		case strings.HasPrefix(w, "udp"):
			t = "udp"
		case strings.HasPrefix(w, "tcp"):
			t = "tcp"
		case strings.HasPrefix(w, "tls"):
			t = "tls"
		case strings.HasPrefix(w, "wss"):
			t = "wss"
		case strings.HasPrefix(w, "ws"):
			t = "ws"
		default:
			err = fmt.Errorf("transport: unknown transport %q", w)
			continue
		}
		dup := false
		for _, x := range out {
			dup = dup || x == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out, err
}
