package sipauth

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// uriMatches reports whether the digest uri s designates the Request-URI u
// (RFC 3261 §22.4: the uri "SHOULD" match). It compares what sipgo parsed
// rather than the re-serialised string, without allocating: scheme and host
// case-insensitively, user, password and port exactly, and URI parameters
// and headers as sets (names case-insensitive, values exact except for
// case-insensitive parameter values), so that parameter order and case do
// not matter. Non-SIP URIs compare their scheme-specific part exactly.
func uriMatches(u *sip.Uri, s string) bool {
	s = trimLWS(s)
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	want := u.Scheme
	if want == "" {
		want = "sip"
	}
	if !strings.EqualFold(scheme, want) {
		return false
	}
	if raw := u.Raw(); raw != "" {
		return rest == raw
	}
	rest, slashes := strings.CutPrefix(rest, "//")
	if slashes != u.HierarhicalSlashes {
		return false
	}

	// userinfo, split as sipgo does: up to the first '@' unless a '['
	// comes first, the password after the last ':' before it.
	user, pass := "", ""
	colon := -1
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == '[' {
			break
		}
		if c == ':' {
			colon = i
		}
		if c == '@' {
			if colon >= 0 {
				user, pass = rest[:colon], rest[colon+1:i]
			} else {
				user = rest[:i]
			}
			rest = rest[i+1:]
			break
		}
	}
	if user != u.User || pass != u.Password {
		return false
	}

	end := strings.IndexAny(rest, ";?")
	if strings.HasPrefix(rest, "[") {
		i := strings.IndexByte(rest, ']')
		if i < 0 {
			return false
		}
		end = strings.IndexAny(rest[i:], ";?")
		if end >= 0 {
			end += i
		}
	}
	if end < 0 {
		end = len(rest)
	}
	hostport, tail := rest[:end], rest[end:]
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && i > strings.LastIndexByte(hostport, ']') {
		host, port = hostport[:i], hostport[i+1:]
	}
	if host == "" || !strings.EqualFold(strings.Trim(host, "[]"), strings.Trim(u.Host, "[]")) {
		return false
	}
	if p, ok := atoiPort(port); !ok || p != u.Port {
		return false
	}

	params, headers, _ := strings.Cut(tail, "?")
	params = strings.TrimPrefix(params, ";")
	return paramsMatch(params, ';', u.UriParams) && paramsMatch(headers, '&', u.Headers)
}

// paramsMatch reports whether the sep-separated list s holds the same
// parameters as hp.
func paramsMatch(s string, sep byte, hp sip.HeaderParams) bool {
	n := 0
	for s != "" {
		var kv string
		if i := strings.IndexByte(s, sep); i >= 0 {
			kv, s = s[:i], s[i+1:]
		} else {
			kv, s = s, ""
		}
		if kv == "" {
			continue
		}
		n++
		k, v, _ := strings.Cut(kv, "=")
		found := false
		for _, p := range hp {
			if strings.EqualFold(p.K, k) {
				found = strings.EqualFold(p.V, v)
				break
			}
		}
		if !found {
			return false
		}
	}
	return n == len(hp)
}

// atoiPort parses an optional decimal port; "" is 0.
func atoiPort(s string) (int, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
