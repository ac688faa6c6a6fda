package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// IsTrue is Asterisk's ast_true: yes, true, y, t, 1 and on (any case).
func IsTrue(s string) bool {
	switch strings.ToLower(trim(s)) {
	case "yes", "true", "y", "t", "1", "on":
		return true
	}
	return false
}

// IsFalse is Asterisk's ast_false: no, false, n, f, 0 and off (any case).
func IsFalse(s string) bool {
	switch strings.ToLower(trim(s)) {
	case "no", "false", "n", "f", "0", "off":
		return true
	}
	return false
}

// ParseBool accepts what IsTrue and IsFalse accept and fails otherwise.
func ParseBool(s string) (bool, error) {
	switch {
	case IsTrue(s):
		return true, nil
	case IsFalse(s):
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

// SplitList splits a comma-separated list, trimming items and dropping
// empty ones.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = trim(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ParsePrefix parses an address with an optional mask the way Asterisk's
// ACL code does: "10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.0.0", "fe80::/10".
// The address is masked, so "192.168.1.7/24" gives 192.168.1.0/24.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = trim(s)
	addrPart, maskPart, hasMask := strings.Cut(s, "/")
	addr, err := parseAddr(addrPart)
	if err != nil {
		return netip.Prefix{}, err
	}
	bits := addr.BitLen()
	if hasMask {
		maskPart = trim(maskPart)
		if n, err := strconv.Atoi(maskPart); err == nil {
			if n < 0 || n > addr.BitLen() {
				return netip.Prefix{}, fmt.Errorf("mask /%d out of range in %q", n, s)
			}
			bits = n
		} else {
			m, err := netip.ParseAddr(maskPart)
			if err != nil || m.BitLen() != addr.BitLen() {
				return netip.Prefix{}, fmt.Errorf("bad netmask %q in %q", maskPart, s)
			}
			n, ok := maskBits(m)
			if !ok {
				return netip.Prefix{}, fmt.Errorf("netmask %q in %q is not contiguous", maskPart, s)
			}
			bits = n
		}
	}
	return addr.Prefix(bits)
}

// parseAddr accepts an IP, optionally in brackets ("[::1]").
func parseAddr(s string) (netip.Addr, error) {
	s = trim(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad IP address %q", s)
	}
	return a.Unmap(), nil
}

func maskBits(m netip.Addr) (int, bool) {
	b := m.AsSlice()
	n := 0
	seenZero := false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, false
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n, true
}

// SplitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". A bare
// IPv6 address without brackets is returned whole with port 0.
func SplitHostPort(s string) (host string, port int, err error) {
	s = trim(s)
	if s == "" {
		return "", 0, fmt.Errorf("empty address")
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("missing ']' in %q", s)
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, 0, nil
		}
		if rest[0] != ':' {
			return "", 0, fmt.Errorf("bad address %q", s)
		}
		p, err := parsePort(rest[1:])
		if err != nil {
			return "", 0, err
		}
		return host, p, nil
	}
	if strings.Count(s, ":") > 1 { // bare IPv6
		return s, 0, nil
	}
	h, ps, ok := strings.Cut(s, ":")
	if !ok {
		return s, 0, nil
	}
	p, err := parsePort(ps)
	if err != nil {
		return "", 0, err
	}
	return h, p, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(trim(s))
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return p, nil
}

// JoinHostPort formats host and port, bracketing IPv6 addresses.
func JoinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// ACLRule is one deny= or permit= entry. Rules are applied in order and the
// last one that matches decides, as in ast_apply_ha; with no match the
// address is allowed.
type ACLRule struct {
	Permit bool
	Prefix netip.Prefix
}

// ParseACL parses the value of a deny= or permit= option: a comma-separated
// list of addresses with optional masks, each optionally prefixed by '!'
// to invert it.
func ParseACL(permit bool, value string) ([]ACLRule, error) {
	var out []ACLRule
	for _, item := range SplitList(value) {
		p := permit
		if strings.HasPrefix(item, "!") {
			p = !p
			item = trim(item[1:])
		}
		pfx, err := ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, ACLRule{Permit: p, Prefix: pfx})
	}
	return out, nil
}

// Allowed applies rules to addr the way ast_apply_ha does.
func Allowed(rules []ACLRule, addr netip.Addr) bool {
	ok := true
	addr = addr.Unmap()
	for _, r := range rules {
		if r.Prefix.Contains(addr) {
			ok = r.Permit
		}
	}
	return ok
}

// knownCodecs are the media format names Asterisk knows, in the order
// "allow=all" adds them.
var knownCodecs = []string{
	"ulaw", "alaw", "gsm", "g722", "g729", "g723", "g726", "g726aal2", "adpcm",
	"ilbc", "speex", "speex16", "speex32", "opus", "silk8", "silk12", "silk16",
	"silk24", "siren7", "siren14", "g719", "lpc10", "codec2", "testlaw",
	"slin", "slin12", "slin16", "slin24", "slin32", "slin44", "slin48", "slin96", "slin192",
	"h261", "h263", "h263p", "h264", "h265", "mpeg4", "vp8", "vp9", "jpeg", "png",
	"t140", "t140red", "red", "t38",
}

// KnownCodec reports whether name is a format Asterisk knows.
func KnownCodec(name string) bool { return slices.Contains(knownCodecs, name) }

// ApplyCodecs updates an ordered codec list with one allow= (allow true) or
// disallow= value, as ast_format_cap_update_by_allow_disallow: items are
// separated by ',', '|' or '&'; "all" means every codec; a leading '!'
// inverts one item; ":20" framing suffixes are dropped. It returns the new
// list and the names it did not recognise.
func ApplyCodecs(list []string, value string, allow bool) (out []string, unknown []string) {
	out = list
	items := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == '|' || r == '&' })
	for _, item := range items {
		item = strings.ToLower(trim(item))
		a := allow
		if strings.HasPrefix(item, "!") {
			a = !a
			item = trim(item[1:])
		}
		if i := strings.IndexByte(item, ':'); i >= 0 {
			item = item[:i]
		}
		if item == "" {
			continue
		}
		var names []string
		switch {
		case item == "all":
			if !a {
				out = nil
				continue
			}
			names = knownCodecs
		case KnownCodec(item):
			names = []string{item}
		default:
			unknown = append(unknown, item)
			continue
		}
		for _, n := range names {
			if a {
				if !slices.Contains(out, n) {
					out = append(out[:len(out):len(out)], n)
				}
			} else {
				out = remove(out, n)
			}
		}
	}
	return out, unknown
}

func remove(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
