package pjsipconf

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

func defaultGlobal() Global {
	return Global{
		Object:                    Object{ID: "global", Type: "global", Options: map[string]string{}},
		UserAgent:                 DefaultUserAgent,
		DefaultRealm:              "asterisk",
		MaxForwards:               70,
		KeepAliveInterval:         90 * time.Second,
		EndpointIdentifierOrder:   []string{"ip", "username", "anonymous"},
		DefaultOutboundEndpoint:   "default_outbound_endpoint",
		DefaultFromUser:           "asterisk",
		ContactExpirationCheck:    30 * time.Second,
		UnidentifiedRequestCount:  5,
		UnidentifiedRequestPeriod: 5 * time.Second,
		UnidentifiedRequestPrune:  30 * time.Second,
		DefaultAuthAlgorithmsUAS:  []string{"MD5"},
		DefaultAuthAlgorithmsUAC:  []string{"MD5"},
	}
}

func defaultSystem() System {
	return System{
		Object:               Object{ID: "system", Type: "system", Options: map[string]string{}},
		TimerT1:              500 * time.Millisecond,
		TimerB:               32 * time.Second,
		DisableTCPSwitch:     true,
		FollowEarlyMediaFork: true,
	}
}

// ---- transport

var transportOpts = table[Transport]{
	"protocol": oneOf(func(t *Transport) *string { return &t.Protocol }, "udp", "tcp", "tls", "ws", "wss", "flow"),
	"bind": {fn: func(_ *loader, t *Transport, v config.Var) error {
		if _, _, err := config.SplitHostPort(v.Value); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		t.Bind = strings.TrimSpace(v.Value)
		return nil
	}},
	"external_signaling_address": str(func(t *Transport) *string { return &t.ExternalSignalingAddress }),
	"external_signaling_port": {fn: func(_ *loader, t *Transport, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("external_signaling_port: %q is not a port number", v.Value)
		}
		t.ExternalSignalingPort = n
		return nil
	}},
	"external_media_address": str(func(t *Transport) *string { return &t.ExternalMediaAddress }),
	"local_net":              appendPrefixes(func(t *Transport) *[]netip.Prefix { return &t.LocalNets }),
	"cert_file":              file(func(t *Transport) (*string, *config.Pos) { return &t.CertFile, &t.CertPos }),
	"priv_key_file":          file(func(t *Transport) (*string, *config.Pos) { return &t.PrivKeyFile, &t.PrivKeyPos }),
	"ca_list_file":           file(func(t *Transport) (*string, *config.Pos) { return &t.CAListFile, &t.CAListPos }),
	"ca_list_path":           str(func(t *Transport) *string { return &t.CAListPath }),
	"password":               str(func(t *Transport) *string { return &t.Password }),
	"method":                 str(func(t *Transport) *string { return &t.Method }),
	"cipher":                 list(func(t *Transport) *[]string { return &t.Cipher }),
	"verify_server":          boolean(func(t *Transport) *bool { return &t.VerifyServer }),
	"verify_client":          boolean(func(t *Transport) *bool { return &t.VerifyClient }),
	"require_client_cert":    boolean(func(t *Transport) *bool { return &t.RequireClientCert }),
	"domain":                 str(func(t *Transport) *string { return &t.Domain }),
	"allow_reload":           boolean(func(t *Transport) *bool { return &t.AllowReload }),
	"symmetric_transport":    boolean(func(t *Transport) *bool { return &t.SymmetricTransport }),
}.known(`async_operations external_signaling_hostname allow_wildcard_certs tcp_keepalive_enable
	tcp_keepalive_idle_time tcp_keepalive_interval_time tcp_keepalive_probe_count tos cos
	websocket_write_timeout`)

func (l *loader) transport(s *config.Section, obj Object) {
	t := &Transport{Object: obj, Protocol: "udp"}
	apply(l, s, t, &t.Object, transportOpts)
	switch t.Protocol {
	case "ws", "wss":
		// Asterisk serves WebSockets from its HTTP server (http.conf).
		port := 8088
		if t.Protocol == "wss" {
			port = 8089
		}
		if t.Bind == "" {
			t.Bind = config.JoinHostPort("0.0.0.0", port)
		} else {
			t.Bind = withDefaultPort(t.Bind, port)
		}
	case "flow":
	default:
		port := 5060
		if t.Protocol == "tls" {
			port = 5061
		}
		if t.Bind == "" {
			l.warnf(s.Pos, "transport [%s] has no bind=; using 0.0.0.0:%d", s.Name, port)
			t.Bind = config.JoinHostPort("0.0.0.0", port)
		} else {
			t.Bind = withDefaultPort(t.Bind, port)
		}
	}
	l.c.Transports = append(l.c.Transports, t)
}

func withDefaultPort(hostport string, def int) string {
	h, p, err := config.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if p == 0 {
		p = def
	}
	return config.JoinHostPort(h, p)
}

// ---- endpoint

func codecs(allow bool) opt[Endpoint] {
	return opt[Endpoint]{repeat: true, fn: func(_ *loader, e *Endpoint, v config.Var) error {
		var unknown []string
		e.Allow, unknown = config.ApplyCodecs(e.Allow, v.Value, allow)
		if len(unknown) > 0 {
			return fmt.Errorf("%s: unknown codec %s", v.Name, strings.Join(unknown, ", "))
		}
		return nil
	}}
}

var endpointOpts = table[Endpoint]{
	"context":         str(func(e *Endpoint) *string { return &e.Context }),
	"allow":           codecs(true),
	"disallow":        codecs(false),
	"transport":       str(func(e *Endpoint) *string { return &e.Transport }),
	"auth":            list(func(e *Endpoint) *[]string { return &e.Auth }),
	"outbound_auth":   list(func(e *Endpoint) *[]string { return &e.OutboundAuth }),
	"aors":            list(func(e *Endpoint) *[]string { return &e.AORs }),
	"direct_media":    boolean(func(e *Endpoint) *bool { return &e.DirectMedia }),
	"rewrite_contact": boolean(func(e *Endpoint) *bool { return &e.RewriteContact }),
	"force_rport":     boolean(func(e *Endpoint) *bool { return &e.ForceRport }),
	"rtp_symmetric":   boolean(func(e *Endpoint) *bool { return &e.RTPSymmetric }),
	"dtmf_mode": oneOf(func(e *Endpoint) *string { return &e.DTMFMode },
		"rfc4733", "inband", "info", "auto", "auto_info", "none"),
	"callerid":    str(func(e *Endpoint) *string { return &e.CallerID }),
	"from_user":   str(func(e *Endpoint) *string { return &e.FromUser }),
	"from_domain": str(func(e *Endpoint) *string { return &e.FromDomain }),
	"media_encryption": oneOf(func(e *Endpoint) *string { return &e.MediaEncryption },
		"no", "sdes", "dtls"),
	"language":    str(func(e *Endpoint) *string { return &e.Language }),
	"moh_suggest": str(func(e *Endpoint) *string { return &e.MOHSuggest }),
	"accountcode": str(func(e *Endpoint) *string { return &e.AccountCode }),
	"identify_by": {fn: func(_ *loader, e *Endpoint, v config.Var) error {
		var out []string
		for _, m := range config.SplitList(v.Value) {
			m = strings.ToLower(m)
			switch m {
			case "username", "auth_username", "ip", "header", "request_uri":
				out = append(out, m)
			default:
				return fmt.Errorf("identify_by: unknown method %q", m)
			}
		}
		e.IdentifyBy = out
		return nil
	}},
	"device_state_busy_at": count(func(e *Endpoint) *int { return &e.DeviceStateBusyAt }),
	"trust_id_inbound":     boolean(func(e *Endpoint) *bool { return &e.TrustIDInbound }),
	"trust_id_outbound":    boolean(func(e *Endpoint) *bool { return &e.TrustIDOutbound }),
	"send_pai":             boolean(func(e *Endpoint) *bool { return &e.SendPAI }),
	"send_rpid":            boolean(func(e *Endpoint) *bool { return &e.SendRPID }),
	"100rel": oneOf(func(e *Endpoint) *string { return &e.Rel100 },
		"no", "yes", "required", "peer_supported"),
	"timers": oneOf(func(e *Endpoint) *string { return &e.Timers },
		"no", "yes", "required", "always", "forced"),
	"timers_min_se":       count(func(e *Endpoint) *int { return &e.TimersMinSE }),
	"timers_sess_expires": count(func(e *Endpoint) *int { return &e.TimersSessExpires }),
	"ice_support":         boolean(func(e *Endpoint) *bool { return &e.ICESupport }),
	"use_avpf":            boolean(func(e *Endpoint) *bool { return &e.UseAVPF }),
	"webrtc":              boolean(func(e *Endpoint) *bool { return &e.WebRTC }),
	"outbound_proxy":      str(func(e *Endpoint) *string { return &e.OutboundProxy }),
	"mailboxes":           str(func(e *Endpoint) *string { return &e.Mailboxes }),
	"deny":                acl(func(e *Endpoint) *[]config.ACLRule { return &e.ACL }, false),
	"permit":              acl(func(e *Endpoint) *[]config.ACLRule { return &e.ACL }, true),
}.known(`rtp_ipv6 use_ptime media_address bind_rtp_to_media_address direct_media_method
	trust_connected_line send_connected_line connected_line_method
	direct_media_glare_mitigation disable_direct_media_on_nat callerid_privacy callerid_tag
	rpid_immediate send_diversion send_history_info voicemail_extension aggregate_mwi
	mwi_subscribe_replaces_unsolicited force_avp media_use_received_transport rtp_keepalive
	rtp_timeout rtp_timeout_hold rtp_port_start rtp_port_end one_touch_recording
	inband_progress call_group pickup_group named_call_group named_pickup_group t38_udptl
	t38_udptl_ec t38_udptl_maxdatagram fax_detect fax_detect_timeout t38_udptl_nat
	t38_udptl_ipv6 t38_bind_udptl_to_media_address tone_zone record_on_feature
	record_off_feature allow_transfer user_eq_phone moh_passthrough sdp_owner sdp_session
	tos_audio tos_video cos_audio cos_video allow_subscribe sub_min_expiry mwi_from_user
	rtp_engine dtls_verify dtls_rekey dtls_auto_generate_cert dtls_cert_file
	dtls_private_key dtls_cipher dtls_ca_file dtls_ca_path dtls_setup dtls_fingerprint
	srtp_tag_32 media_encryption_optimistic g726_non_standard redirect_method
	follow_redirect_methods set_var message_context acl contact_deny contact_permit
	contact_acl subscribe_context contact_user preferred_codec_only asymmetric_rtp_codec
	rtcp_mux allow_overlap overlap_context refer_blind_progress notify_early_inuse_ringing
	max_audio_streams max_video_streams bundle incoming_mwi_mailbox follow_early_media_fork
	accept_multiple_sdp_answers suppress_q850_reason_headers ignore_183_without_sdp
	incoming_call_offer_pref outgoing_call_offer_pref codec_prefs_incoming_offer
	codec_prefs_outgoing_offer codec_prefs_incoming_answer codec_prefs_outgoing_answer
	stir_shaken stir_shaken_profile allow_unauthenticated_options
	geoloc_incoming_call_profile geoloc_outgoing_call_profile security_mechanisms
	security_negotiation send_aoc tenantid suppress_moh_on_sendonly`)

func init() {
	// set_var may repeat.
	o := endpointOpts["set_var"]
	o.repeat = true
	endpointOpts["set_var"] = o
}

func (l *loader) endpoint(s *config.Section, obj Object) {
	e := &Endpoint{
		Object:            obj,
		Context:           "default",
		DirectMedia:       false, // gopbx anchors media unless direct_media=yes is set
		ForceRport:        true,
		DTMFMode:          "rfc4733",
		MediaEncryption:   "no",
		MOHSuggest:        "default",
		IdentifyBy:        []string{"username", "ip"},
		Rel100:            "yes",
		Timers:            "yes",
		TimersMinSE:       90,
		TimersSessExpires: 1800,
	}
	apply(l, s, e, &e.Object, endpointOpts)
	e.refs = refsOf(s, map[string]string{"auth": "auth", "outbound_auth": "auth", "aors": "aor"})
	if v, ok := s.Var("transport"); ok && strings.TrimSpace(v.Value) != "" {
		e.refs = append(e.refs, ref{kind: "transport", name: strings.TrimSpace(v.Value), pos: v.Pos, opt: "transport"})
	}
	l.c.EndpointObjects = append(l.c.EndpointObjects, e)
}

// refsOf lists the names in the effective (last) value of each list option.
func refsOf(s *config.Section, opts map[string]string) []ref {
	var out []ref
	for _, name := range []string{"auth", "outbound_auth", "aors"} {
		kind, ok := opts[name]
		if !ok {
			continue
		}
		v, ok := s.Var(name)
		if !ok {
			continue
		}
		for _, n := range config.SplitList(v.Value) {
			out = append(out, ref{kind: kind, name: n, pos: v.Pos, opt: name})
		}
	}
	return out
}

// ---- auth

var authOpts = table[Auth]{
	"auth_type": oneOf(func(a *Auth) *string { return &a.AuthType }, "userpass", "md5", "digest", "google_oauth"),
	"username":  str(func(a *Auth) *string { return &a.Username }),
	"password":  str(func(a *Auth) *string { return &a.Password }),
	"md5_cred": {fn: func(_ *loader, a *Auth, v config.Var) error {
		return a.addDigest("MD5", strings.TrimSpace(v.Value), v.Name)
	}},
	"password_digest": {fn: func(_ *loader, a *Auth, v config.Var) error {
		for _, item := range config.SplitList(v.Value) {
			alg, digest, ok := strings.Cut(item, ":")
			if !ok {
				alg, digest = "MD5", item
			}
			if err := a.addDigest(alg, strings.TrimSpace(digest), v.Name); err != nil {
				return err
			}
		}
		return nil
	}},
	"realm":                    str(func(a *Auth) *string { return &a.Realm }),
	"nonce_lifetime":           seconds(func(a *Auth) *time.Duration { return &a.NonceLifetime }),
	"supported_algorithms_uas": algorithms(func(a *Auth) *[]string { return &a.SupportedAlgorithmsUAS }),
	"supported_algorithms_uac": algorithms(func(a *Auth) *[]string { return &a.SupportedAlgorithmsUAC }),
}.known("refresh_token oauth_clientid oauth_secret")

// digestLen is the hex length of each algorithm's digest.
var digestLen = map[string]int{"MD5": 32, "SHA-256": 64, "SHA-512-256": 64}

func (a *Auth) addDigest(alg, digest, opt string) error {
	name, ok := canonicalAlgorithm(alg)
	if !ok {
		return fmt.Errorf("%s: unknown digest algorithm %q", opt, alg)
	}
	if _, err := hex.DecodeString(digest); err != nil || len(digest) != digestLen[name] {
		return fmt.Errorf("%s: a %s digest is %d hex digits", opt, name, digestLen[name])
	}
	if a.Digests == nil {
		a.Digests = map[string]string{}
	}
	a.Digests[name] = strings.ToLower(digest)
	return nil
}

func (l *loader) auth(s *config.Section, obj Object) {
	a := &Auth{Object: obj, AuthType: "userpass", NonceLifetime: 32 * time.Second}
	apply(l, s, a, &a.Object, authOpts)
	l.c.Auths = append(l.c.Auths, a)
}

// ---- aor

var aorOpts = table[AOR]{
	"max_contacts":       count(func(a *AOR) *int { return &a.MaxContacts }),
	"remove_existing":    boolean(func(a *AOR) *bool { return &a.RemoveExisting }),
	"remove_unavailable": boolean(func(a *AOR) *bool { return &a.RemoveUnavailable }),
	"minimum_expiration": seconds(func(a *AOR) *time.Duration { return &a.MinimumExpiration }),
	"maximum_expiration": seconds(func(a *AOR) *time.Duration { return &a.MaximumExpiration }),
	"default_expiration": seconds(func(a *AOR) *time.Duration { return &a.DefaultExpiration }),
	"qualify_frequency": {fn: func(_ *loader, a *AOR, v config.Var) error {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || n < 0 || n > 86400 {
			return fmt.Errorf("qualify_frequency: %q is not a number of seconds from 0 to 86400", v.Value)
		}
		a.QualifyFrequency = time.Duration(n) * time.Second
		return nil
	}},
	"qualify_timeout": {fn: func(_ *loader, a *AOR, v config.Var) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
		if err != nil || f < 0 || f > 86400 {
			return fmt.Errorf("qualify_timeout: %q is not a number of seconds", v.Value)
		}
		a.QualifyTimeout = time.Duration(f * float64(time.Second))
		return nil
	}},
	"authenticate_qualify": boolean(func(a *AOR) *bool { return &a.AuthenticateQualify }),
	"contact": {repeat: true, fn: func(_ *loader, a *AOR, v config.Var) error {
		var bad []string
		for _, c := range config.SplitList(v.Value) {
			lc := strings.ToLower(c)
			if !strings.HasPrefix(lc, "sip:") && !strings.HasPrefix(lc, "sips:") {
				bad = append(bad, c)
				continue
			}
			a.Contacts = append(a.Contacts, c)
		}
		if len(bad) > 0 {
			return fmt.Errorf("contact: %s is not a sip: or sips: URI", strings.Join(bad, ", "))
		}
		return nil
	}},
	"mailboxes":           str(func(a *AOR) *string { return &a.Mailboxes }),
	"voicemail_extension": str(func(a *AOR) *string { return &a.VoicemailExtension }),
	"outbound_proxy":      str(func(a *AOR) *string { return &a.OutboundProxy }),
	"support_path":        boolean(func(a *AOR) *bool { return &a.SupportPath }),
}.known("qualify_2xx_only")

func (l *loader) aor(s *config.Section, obj Object) {
	a := &AOR{
		Object:            obj,
		MinimumExpiration: 60 * time.Second,
		MaximumExpiration: 7200 * time.Second,
		DefaultExpiration: 3600 * time.Second,
		QualifyTimeout:    3 * time.Second,
	}
	apply(l, s, a, &a.Object, aorOpts)
	l.c.AORs = append(l.c.AORs, a)
}

// ---- identify

var identifyOpts = table[Identify]{
	"endpoint": str(func(i *Identify) *string { return &i.Endpoint }),
	"match": {repeat: true, fn: func(_ *loader, i *Identify, v config.Var) error {
		var bad []string
		for _, item := range config.SplitList(v.Value) {
			p, host, err := parseMatch(item)
			switch {
			case err != nil:
				bad = append(bad, item)
			case host != "":
				i.MatchHosts = append(i.MatchHosts, host)
			default:
				i.Match = append(i.Match, p)
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("match: bad address %s", strings.Join(bad, ", "))
		}
		return nil
	}},
	"match_header":      str(func(i *Identify) *string { return &i.MatchHeader }),
	"match_request_uri": str(func(i *Identify) *string { return &i.MatchRequestURI }),
	"srv_lookups":       boolean(func(i *Identify) *bool { return &i.SRVLookups }),
}

// parseMatch reads one identify match= item: an address with an optional
// mask ("10.0.0.0/8", "10.0.0.0/255.0.0.0"), an address with a port (the
// port is not kept) or a host name.
func parseMatch(item string) (netip.Prefix, string, error) {
	if strings.Contains(item, "/") {
		p, err := config.ParsePrefix(item)
		return p, "", err
	}
	if ap, err := netip.ParseAddrPort(item); err == nil {
		a := ap.Addr().Unmap()
		return netip.PrefixFrom(a, a.BitLen()), "", nil
	}
	if p, err := config.ParsePrefix(item); err == nil {
		return p, "", nil
	}
	host := item
	if h, _, err := config.SplitHostPort(item); err == nil {
		host = h
	}
	if host == "" || strings.ContainsAny(host, " \t[]") {
		return netip.Prefix{}, "", fmt.Errorf("bad match %q", item)
	}
	return netip.Prefix{}, host, nil
}

func (l *loader) identify(s *config.Section, obj Object) {
	i := &Identify{Object: obj, SRVLookups: true}
	apply(l, s, i, &i.Object, identifyOpts)
	if len(i.Match) == 0 && len(i.MatchHosts) == 0 && i.MatchHeader == "" && i.MatchRequestURI == "" {
		l.warnf(s.Pos, "identify [%s] has no match=, match_header= or match_request_uri=", s.Name)
	}
	if i.Endpoint == "" {
		l.warnf(s.Pos, "identify [%s] has no endpoint=", s.Name)
	} else if v, ok := s.Var("endpoint"); ok {
		i.refs = []ref{{kind: "endpoint", name: i.Endpoint, pos: v.Pos, opt: "endpoint"}}
	}
	l.c.Identifies = append(l.c.Identifies, i)
}

// ---- registration

var registrationOpts = table[Registration]{
	"server_uri":               str(func(r *Registration) *string { return &r.ServerURI }),
	"client_uri":               str(func(r *Registration) *string { return &r.ClientURI }),
	"contact_user":             str(func(r *Registration) *string { return &r.ContactUser }),
	"contact_header_params":    str(func(r *Registration) *string { return &r.ContactHeaderParams }),
	"transport":                str(func(r *Registration) *string { return &r.Transport }),
	"outbound_proxy":           str(func(r *Registration) *string { return &r.OutboundProxy }),
	"outbound_auth":            list(func(r *Registration) *[]string { return &r.OutboundAuth }),
	"expiration":               seconds(func(r *Registration) *time.Duration { return &r.Expiration }),
	"retry_interval":           seconds(func(r *Registration) *time.Duration { return &r.RetryInterval }),
	"forbidden_retry_interval": seconds(func(r *Registration) *time.Duration { return &r.ForbiddenRetryInterval }),
	"fatal_retry_interval":     seconds(func(r *Registration) *time.Duration { return &r.FatalRetryInterval }),
	"max_random_initial_delay": seconds(func(r *Registration) *time.Duration { return &r.MaxRandomInitialDelay }),
	"max_retries":              count(func(r *Registration) *int { return &r.MaxRetries }),
	"auth_rejection_permanent": boolean(func(r *Registration) *bool { return &r.AuthRejectionPermanent }),
	"support_path":             boolean(func(r *Registration) *bool { return &r.SupportPath }),
	"support_outbound":         boolean(func(r *Registration) *bool { return &r.SupportOutbound }),
	"line":                     boolean(func(r *Registration) *bool { return &r.Line }),
	"endpoint":                 str(func(r *Registration) *string { return &r.Endpoint }),
}.known("user_agent security_negotiation security_mechanisms")

func (l *loader) registration(s *config.Section, obj Object) {
	r := &Registration{
		Object:                 obj,
		Expiration:             3600 * time.Second,
		RetryInterval:          60 * time.Second,
		MaxRetries:             10,
		MaxRandomInitialDelay:  10 * time.Second,
		AuthRejectionPermanent: true,
	}
	apply(l, s, r, &r.Object, registrationOpts)
	if r.ServerURI == "" || r.ClientURI == "" {
		l.warnf(s.Pos, "registration [%s] needs server_uri and client_uri; ignored, as Asterisk does", s.Name)
		return
	}
	if r.Line && r.Endpoint == "" {
		l.warnf(s.Pos, "registration [%s] has line=yes but no endpoint=", s.Name)
	}
	r.refs = refsOf(s, map[string]string{"outbound_auth": "auth"})
	if v, ok := s.Var("transport"); ok && strings.TrimSpace(v.Value) != "" {
		r.refs = append(r.refs, ref{kind: "transport", name: strings.TrimSpace(v.Value), pos: v.Pos, opt: "transport"})
	}
	if v, ok := s.Var("endpoint"); ok && strings.TrimSpace(v.Value) != "" {
		r.refs = append(r.refs, ref{kind: "endpoint", name: strings.TrimSpace(v.Value), pos: v.Pos, opt: "endpoint"})
	}
	l.c.Registrations = append(l.c.Registrations, r)
}

// ---- global and system

var globalOpts = table[Global]{
	"user_agent":                          str(func(g *Global) *string { return &g.UserAgent }),
	"default_realm":                       str(func(g *Global) *string { return &g.DefaultRealm }),
	"max_forwards":                        count(func(g *Global) *int { return &g.MaxForwards }),
	"keep_alive_interval":                 seconds(func(g *Global) *time.Duration { return &g.KeepAliveInterval }),
	"endpoint_identifier_order":           list(func(g *Global) *[]string { return &g.EndpointIdentifierOrder }),
	"default_outbound_endpoint":           str(func(g *Global) *string { return &g.DefaultOutboundEndpoint }),
	"default_from_user":                   str(func(g *Global) *string { return &g.DefaultFromUser }),
	"default_voicemail_extension":         str(func(g *Global) *string { return &g.DefaultVoicemailExtension }),
	"regcontext":                          str(func(g *Global) *string { return &g.RegContext }),
	"contact_expiration_check_interval":   seconds(func(g *Global) *time.Duration { return &g.ContactExpirationCheck }),
	"disable_multi_domain":                boolean(func(g *Global) *bool { return &g.DisableMultiDomain }),
	"ignore_uri_user_options":             boolean(func(g *Global) *bool { return &g.IgnoreURIUserOptions }),
	"unidentified_request_count":          count(func(g *Global) *int { return &g.UnidentifiedRequestCount }),
	"unidentified_request_period":         seconds(func(g *Global) *time.Duration { return &g.UnidentifiedRequestPeriod }),
	"unidentified_request_prune_interval": seconds(func(g *Global) *time.Duration { return &g.UnidentifiedRequestPrune }),
	"default_auth_algorithms_uas":         algorithms(func(g *Global) *[]string { return &g.DefaultAuthAlgorithmsUAS }),
	"default_auth_algorithms_uac":         algorithms(func(g *Global) *[]string { return &g.DefaultAuthAlgorithmsUAC }),
}.known(`debug max_initial_qualify_time mwi_tps_queue_high mwi_tps_queue_low
	mwi_disable_initial_unsolicited allow_sending_180_after_183 use_callerid_contact
	send_contact_status_on_update_registration taskprocessor_overload_trigger norefersub
	all_codecs_on_empty_reinvite`)

func (l *loader) global(s *config.Section, obj Object) {
	g := &l.c.Global
	if l.globalPos != nil {
		l.warnf(s.Pos, "more than one type=global object (first at %s); later settings override earlier ones", *l.globalPos)
	} else {
		pos := s.Pos
		l.globalPos = &pos
		g.ID, g.Pos = obj.ID, obj.Pos
	}
	apply(l, s, g, &g.Object, globalOpts)
}

var systemOpts = table[System]{
	"timer_t1":                    millis(func(s *System) *time.Duration { return &s.TimerT1 }),
	"timer_b":                     millis(func(s *System) *time.Duration { return &s.TimerB }),
	"compact_headers":             boolean(func(s *System) *bool { return &s.CompactHeaders }),
	"disable_tcp_switch":          boolean(func(s *System) *bool { return &s.DisableTCPSwitch }),
	"follow_early_media_fork":     boolean(func(s *System) *bool { return &s.FollowEarlyMediaFork }),
	"accept_multiple_sdp_answers": boolean(func(s *System) *bool { return &s.AcceptMultipleSDPAnswers }),
	"disable_rport":               boolean(func(s *System) *bool { return &s.DisableRport }),
}.known(`threadpool_initial_size threadpool_auto_increment threadpool_idle_timeout
	threadpool_max_size taskpool_minimum_size taskpool_initial_size taskpool_auto_increment
	taskpool_idle_timeout taskpool_max_size`)

func (l *loader) system(s *config.Section, obj Object) {
	sys := &l.c.System
	if l.systemPos != nil {
		l.warnf(s.Pos, "more than one type=system object (first at %s); later settings override earlier ones", *l.systemPos)
	} else {
		pos := s.Pos
		l.systemPos = &pos
		sys.ID, sys.Pos = obj.ID, obj.Pos
	}
	apply(l, s, sys, &sys.Object, systemOpts)
}

// ---- domain_alias and acl

var domainAliasOpts = table[DomainAlias]{
	"domain": str(func(d *DomainAlias) *string { return &d.Domain }),
}

func (l *loader) domainAlias(s *config.Section, obj Object) {
	d := &DomainAlias{Object: obj}
	apply(l, s, d, &d.Object, domainAliasOpts)
	if d.Domain == "" {
		l.warnf(s.Pos, "domain_alias [%s] has no domain=", s.Name)
	}
	l.c.DomainAliases = append(l.c.DomainAliases, d)
}

var aclOpts = table[ACL]{
	"permit":         acl(func(a *ACL) *[]config.ACLRule { return &a.Rules }, true),
	"deny":           acl(func(a *ACL) *[]config.ACLRule { return &a.Rules }, false),
	"contact_permit": acl(func(a *ACL) *[]config.ACLRule { return &a.ContactRules }, true),
	"contact_deny":   acl(func(a *ACL) *[]config.ACLRule { return &a.ContactRules }, false),
}.known("acl contact_acl")

func (l *loader) acl(s *config.Section, obj Object) {
	a := &ACL{Object: obj}
	apply(l, s, a, &a.Object, aclOpts)
	l.c.ACLs = append(l.c.ACLs, a)
}

// ---- references

// validate warns about references to objects that do not exist, as
// Asterisk logs them when it first uses them.
func (l *loader) validate() {
	c := l.c
	exists := func(kind, name string) bool {
		switch kind {
		case "auth":
			return c.Auth(name) != nil
		case "aor":
			return c.AOR(name) != nil
		case "transport":
			return c.Transport(name) != nil
		case "endpoint":
			return c.Endpoint(name) != nil
		}
		return true
	}
	check := func(owner string, refs []ref) {
		for _, r := range refs {
			if !exists(r.kind, r.name) {
				l.warnf(r.pos, "%s: %s=%s: there is no %s object %q", owner, r.opt, r.name, r.kind, r.name)
			}
		}
	}
	for _, e := range c.EndpointObjects {
		check("endpoint ["+e.ID+"]", e.refs)
	}
	for _, r := range c.Registrations {
		check("registration ["+r.ID+"]", r.refs)
	}
	for _, i := range c.Identifies {
		check("identify ["+i.ID+"]", i.refs)
	}
	for _, a := range c.Auths {
		l.checkAuth(a)
	}
}

// checkAuth warns about an auth object Asterisk would reject.
func (l *loader) checkAuth(a *Auth) {
	if a.AuthType == "google_oauth" {
		return
	}
	if a.Username == "" {
		l.warnf(a.Pos, "auth [%s] has no username=; Asterisk rejects it, and endpoints using it cannot authenticate", a.ID)
	}
	algs := a.SupportedAlgorithmsUAS
	if len(algs) == 0 {
		algs = l.c.Global.DefaultAuthAlgorithmsUAS
	}
	for _, alg := range algs {
		if a.Password == "" && a.Digests[alg] == "" {
			l.warnf(a.Pos, "auth [%s] has neither password= nor a %s digest for supported algorithm %s", a.ID, alg, alg)
		}
	}
}
