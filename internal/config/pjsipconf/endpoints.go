package pjsipconf

import (
	"slices"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/endpoint"
)

// LockedHA1 is the HA1 of the credential given to an endpoint whose auth=
// objects are all missing or unusable. It is not hex, so no digest response
// can ever match it: the endpoint stays locked, as in Asterisk, instead of
// becoming an endpoint that needs no authentication.
const LockedHA1 = "!"

// mappedOptions are the endpoint options that have an endpoint.Endpoint
// field; the other recognised options go to Extra.
var mappedOptions = map[string]bool{
	"context": true, "allow": true, "disallow": true, "transport": true, "auth": true,
	"aors": true, "direct_media": true, "rewrite_contact": true, "force_rport": true,
	"rtp_symmetric": true, "dtmf_mode": true, "callerid": true, "from_user": true,
	"from_domain": true, "outbound_auth": true, "outbound_proxy": true, "language": true, "moh_suggest": true, "accountcode": true,
}

// Endpoints maps every type=endpoint object, with the auths, AORs and
// identifies it refers to, to the unified endpoint model, in file order.
//
//   - Credentials come from auth=: the password, or for auth_type=md5 (or
//     when there is no password) the md5_cred / MD5 password_digest as HA1;
//     Algorithms are supported_algorithms_uas, else a non-default global
//     default_auth_algorithms_uas. See LockedHA1 for unusable auths.
//   - Registration limits and qualify settings come from the first AOR in
//     aors= that accepts registrations (max_contacts > 0), else the first
//     AOR; Dynamic is true when any AOR accepts registrations. Without an
//     AOR the res_pjsip defaults (60 s, 7200 s, 3600 s) apply.
//   - StaticContacts are every AOR's contact= URIs; Host and Port come from
//     the first one.
//   - NAT: force_rport, rtp_symmetric (Comedia) and rewrite_contact.
//   - Identify holds the match= addresses of every identify with
//     endpoint= this endpoint; host names go to Extra["identify_hosts"].
func (c *Config) Endpoints() []*endpoint.Endpoint {
	if c == nil {
		return nil
	}
	out := make([]*endpoint.Endpoint, 0, len(c.EndpointObjects))
	for _, ep := range c.EndpointObjects {
		out = append(out, c.endpoint(ep))
	}
	return out
}

func (c *Config) endpoint(ep *Endpoint) *endpoint.Endpoint {
	e := &endpoint.Endpoint{
		Tech:        endpoint.TechPJSIP,
		Name:        ep.ID,
		Pos:         endpoint.Pos{File: ep.Pos.File, Line: ep.Pos.Line},
		Type:        "friend",
		Context:     ep.Context,
		AORs:        slices.Clone(ep.AORs),
		NAT:         endpoint.NAT{ForceRport: ep.ForceRport, Comedia: ep.RTPSymmetric, RewriteContact: ep.RewriteContact},
		Transport:   ep.Transport,
		Allow:       slices.Clone(ep.Allow),
		DTMFMode:    ep.DTMFMode,
		DirectMedia: ep.DirectMedia,
		FromUser:    ep.FromUser,
		FromDomain:  ep.FromDomain,
		CallerID:    ep.CallerID,
		AccountCode: ep.AccountCode,
		Language:    ep.Language,
		MOH:         ep.MOHSuggest,
		Extra:       map[string]string{},
	}
	if ep.MediaEncryption == "sdes" {
		e.MediaEncryption = "sdes"
	}

	// Credentials.
	lockedUser := ep.ID
	for _, name := range ep.Auth {
		a := c.Auth(name)
		if a == nil {
			continue
		}
		if a.Username != "" {
			lockedUser = a.Username
		}
		if cred, ok := c.credential(a); ok {
			e.Credentials = append(e.Credentials, cred)
		}
	}
	if len(ep.Auth) > 0 && len(e.Credentials) == 0 {
		e.Credentials = []endpoint.Credential{{Username: lockedUser, HA1: LockedHA1}}
	}

	// Outbound auth answers the endpoint's challenges to our requests.
	for _, name := range ep.OutboundAuth {
		if a := c.Auth(name); a != nil && a.Username != "" {
			cred := endpoint.Credential{Username: a.Username, Password: a.Password, Realm: a.Realm}
			if cred.Password == "" {
				cred.HA1 = a.Digests["MD5"]
			}
			e.OutboundAuth = append(e.OutboundAuth, cred)
		}
	}
	e.OutboundProxy = ep.OutboundProxy

	// AORs.
	var aors []*AOR
	for _, name := range ep.AORs {
		if a := c.AOR(name); a != nil {
			aors = append(aors, a)
		}
	}
	var main *AOR
	for _, a := range aors {
		e.StaticContacts = append(e.StaticContacts, a.Contacts...)
		if a.MaxContacts > 0 {
			e.Dynamic = true
			if main == nil {
				main = a
			}
		}
	}
	if main == nil && len(aors) > 0 {
		main = aors[0]
	}
	if main != nil {
		e.MaxContacts = main.MaxContacts
		e.RemoveExisting = main.RemoveExisting
		e.MinExpiry = main.MinimumExpiration
		e.MaxExpiry = main.MaximumExpiration
		e.DefaultExpiry = main.DefaultExpiration
		if main.QualifyFrequency > 0 {
			e.QualifyFrequency = main.QualifyFrequency
			e.QualifyTimeout = main.QualifyTimeout
		}
	} else {
		e.MinExpiry, e.MaxExpiry, e.DefaultExpiry = 60*time.Second, 7200*time.Second, 3600*time.Second
	}
	if len(e.StaticContacts) > 0 {
		e.Host, e.Port = uriHostPort(e.StaticContacts[0])
	}

	// Identify.
	var hosts []string
	for _, id := range c.Identifies {
		if id.Endpoint == ep.ID {
			e.Identify = append(e.Identify, id.Match...)
			hosts = append(hosts, id.MatchHosts...)
		}
	}
	if len(hosts) > 0 {
		e.Extra["identify_hosts"] = strings.Join(hosts, ",")
	}

	for k, v := range ep.Options {
		if !mappedOptions[k] {
			e.Extra[k] = v
		}
	}
	return e
}

// credential turns an auth object into a Credential, or reports that it
// cannot be used for digest authentication of incoming requests.
func (c *Config) credential(a *Auth) (endpoint.Credential, bool) {
	if a.Username == "" || a.AuthType == "google_oauth" {
		return endpoint.Credential{}, false
	}
	cred := endpoint.Credential{Username: a.Username, Realm: a.Realm}
	md5 := a.Digests["MD5"]
	switch {
	case a.AuthType == "md5" && md5 != "":
		cred.HA1 = md5
	case a.Password != "":
		cred.Password = a.Password
	case md5 != "":
		cred.HA1 = md5
	default:
		return endpoint.Credential{}, false
	}
	switch {
	case len(a.SupportedAlgorithmsUAS) > 0:
		cred.Algorithms = slices.Clone(a.SupportedAlgorithmsUAS)
	case !slices.Equal(c.Global.DefaultAuthAlgorithmsUAS, []string{"MD5"}):
		cred.Algorithms = slices.Clone(c.Global.DefaultAuthAlgorithmsUAS)
	}
	if cred.HA1 != "" && len(cred.Algorithms) > 0 {
		// An MD5 HA1 answers MD5 challenges only.
		cred.Algorithms = []string{"MD5"}
	}
	return cred, true
}

// uriHostPort extracts host and port from "sip:[user@]host[:port][;params]".
func uriHostPort(uri string) (string, int) {
	s := uri
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	h, p, err := config.SplitHostPort(s)
	if err != nil {
		return s, 0
	}
	return h, p
}
