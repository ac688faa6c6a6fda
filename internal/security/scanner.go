package security

import "strings"

// scanners are substrings (lower case) of the User-Agent of well-known SIP
// scanning and brute-force tools.
var scanners = []string{
	"friendly-scanner",
	"sipvicious",
	"sipcli",
	"vaxsipuseragent",
	"sundayddr",
	"iwar",
	"sip-scan",
}

// IsScanner reports whether userAgent names a known scanner.
func IsScanner(userAgent string) bool {
	if userAgent == "" {
		return false
	}
	ua := strings.ToLower(userAgent)
	for _, s := range scanners {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}
