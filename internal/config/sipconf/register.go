package sipconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// Register is one parsed "register =>" line of [general]:
//
//	[peer?][transport://]user[@domain][:secret[:authuser]]@host[:port][/extension][~expiry]
//
// and the variant with a domain port,
//
//	user@domain:domainport:secret:authuser@host...
//
// split exactly as chan_sip's sip_parse_register_line does.
type Register struct {
	Pos config.Pos
	Raw string

	Peer       string // "peer?" prefix: the peer whose settings the registration uses
	Transport  string // udp (default), tcp or tls
	User       string
	Domain     string // user@domain: the domain of the From/To URIs
	DomainPort int    // 0: none given
	Secret     string
	AuthUser   string // empty: authenticate as User
	Host       string
	Port       int    // 5060, or 5061 for tls, when not given
	Extension  string // the local extension incoming calls go to; "s" when not given
	// Expiry is the requested registration lifetime; 0 in ParseRegister's
	// result means "not given" and the loader fills in defaultexpiry.
	Expiry time.Duration
}

// String rebuilds the canonical register line.
func (r Register) String() string {
	var b strings.Builder
	if r.Peer != "" {
		b.WriteString(r.Peer + "?")
	}
	if r.Transport != "" && r.Transport != "udp" {
		b.WriteString(r.Transport + "://")
	}
	b.WriteString(r.User)
	if r.Domain != "" {
		b.WriteString("@" + r.Domain)
		if r.DomainPort != 0 {
			b.WriteString(":" + strconv.Itoa(r.DomainPort))
		}
	}
	if r.Secret != "" || r.AuthUser != "" {
		b.WriteString(":" + r.Secret)
		if r.AuthUser != "" {
			b.WriteString(":" + r.AuthUser)
		}
	}
	b.WriteString("@" + r.Host)
	if r.Port != 0 {
		b.WriteString(":" + strconv.Itoa(r.Port))
	}
	if r.Extension != "" && r.Extension != "s" {
		b.WriteString("/" + r.Extension)
	}
	if r.Expiry != 0 {
		b.WriteString("~" + strconv.Itoa(int(r.Expiry/time.Second)))
	}
	return b.String()
}

const registerFormat = "[peer?][transport://]user[@domain][:secret[:authuser]]@host[:port][/extension][~expiry]"

// splitN splits s at the first n-1 occurrences of sep, like Asterisk's
// AST_NONSTANDARD_RAW_ARGS with n arguments: the last part keeps the rest.
// Missing parts are reported as absent.
func splitN(s string, sep byte, n int) (parts []string, present []bool) {
	parts = make([]string, n)
	present = make([]bool, n)
	for i := 0; i < n; i++ {
		present[i] = true
		if i == n-1 {
			parts[i] = s
			break
		}
		j := strings.IndexByte(s, sep)
		if j < 0 {
			parts[i] = s
			break
		}
		parts[i], s = s[:j], s[j+1:]
	}
	return parts, present
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// ParseRegister parses a register line. It rejects what chan_sip rejects
// (no user or no host) and, unlike chan_sip which falls back to defaults,
// also a bad port, expiry or transport.
func ParseRegister(value string) (Register, error) {
	r := Register{Raw: value}
	value = strings.TrimSpace(value)
	at := strings.LastIndexByte(value, '@')
	if at <= 0 || at == len(value)-1 {
		return r, fmt.Errorf("sipconf: register %q: want %s", value, registerFormat)
	}
	userpart, hostpart := value[:at], value[at+1:]

	// [peer?]rest
	pre1, ok1 := splitN(userpart, '?', 2)
	if ok1[1] {
		r.Peer = unquote(pre1[0])
		userpart = pre1[1]
	} else {
		userpart = pre1[0]
	}
	// [transport:]/[blank]/userpart
	pre2, ok2 := splitN(userpart, '/', 3)
	transport := ""
	if ok2[2] && pre2[2] != "" {
		transport = strings.TrimSuffix(pre2[0], ":")
		userpart = pre2[2]
	} else {
		userpart = pre2[0]
	}
	if pre2[1] != "" {
		// "a/b" or "tcp:/x/user": a single slash is not a transport.
		return r, fmt.Errorf("sipconf: register %q: want %s", value, registerFormat)
	}
	// user[@domain] : secret : authuser[:domainport-variant]
	user1, _ := splitN(userpart, ':', 3)
	host1, _ := splitN(hostpart, '~', 2)
	host2, _ := splitN(host1[0], '/', 2)
	host3, _ := splitN(host2[0], ':', 2)
	if strings.HasPrefix(host2[0], "[") { // [IPv6]:port
		h, p, err := config.SplitHostPort(host2[0])
		if err != nil {
			return r, fmt.Errorf("sipconf: register %q: %w", value, err)
		}
		host3 = []string{h, ""}
		if p != 0 {
			host3[1] = strconv.Itoa(p)
		}
	}
	user2, _ := splitN(user1[0], '@', 2)
	user3, ok3 := splitN(user1[2], ':', 2)

	secret, authuser, domainport := user1[1], user3[0], ""
	if ok3[1] {
		// user@domain:domainport:secret:authuser
		domainport, secret, authuser = user1[1], user3[0], user3[1]
	}

	r.User = unquote(user2[0])
	r.Domain = unquote(user2[1])
	r.Secret = unquote(secret)
	r.AuthUser = unquote(authuser)
	r.Host = unquote(host3[0])
	r.Extension = unquote(host2[1])
	if r.Extension == "" {
		r.Extension = "s"
	}
	if r.User == "" || r.Host == "" {
		return r, fmt.Errorf("sipconf: register %q: want %s", value, registerFormat)
	}

	switch t := strings.ToLower(transport); {
	case t == "":
		r.Transport = "udp"
	case strings.HasPrefix(t, "udp"), strings.HasPrefix(t, "tcp"), strings.HasPrefix(t, "tls"):
		r.Transport = t[:3]
	default:
		return r, fmt.Errorf("sipconf: register %q: unknown transport %q", value, transport)
	}
	if host3[1] != "" {
		p, err := strconv.Atoi(host3[1])
		if err != nil || p <= 0 || p > 65535 {
			return r, fmt.Errorf("sipconf: register %q: bad port %q", value, host3[1])
		}
		r.Port = p
	}
	if r.Port == 0 {
		r.Port = 5060
		if r.Transport == "tls" {
			r.Port = 5061
		}
	}
	if domainport != "" {
		p, err := strconv.Atoi(domainport)
		if err != nil || p <= 0 || p > 65535 {
			return r, fmt.Errorf("sipconf: register %q: bad domain port %q", value, domainport)
		}
		r.DomainPort = p
	}
	if exp := unquote(host1[1]); exp != "" {
		n, err := strconv.Atoi(exp)
		if err != nil || n <= 0 {
			return r, fmt.Errorf("sipconf: register %q: bad expiry %q", value, exp)
		}
		r.Expiry = time.Duration(n) * time.Second
	}
	return r, nil
}
