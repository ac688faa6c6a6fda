package endpoint

import (
	"net/netip"
	"time"
)

// Tech names the channel technology an endpoint was declared for.
type Tech string

const (
	TechSIP   Tech = "SIP"   // sip.conf peer/friend/user
	TechPJSIP Tech = "PJSIP" // pjsip.conf endpoint
)

// Pos is where an object was declared, for messages that cite file:line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "<builtin>"
	}
	return p.File + ":" + itoa(p.Line)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Credential is one username/secret pair an endpoint may authenticate with.
// Exactly one of Password and HA1 is set; HA1 is the precomputed
// MD5(username:realm:password) of sip.conf md5secret / pjsip auth_type=md5,
// which only works with MD5 challenges.
type Credential struct {
	Username string
	Password string
	HA1      string // hex MD5 HA1
	Realm    string // empty: the server's realm
	// Algorithms the server may challenge with for this credential, in
	// preference order ("SHA-256", "MD5"). Empty means MD5 only, as Asterisk.
	Algorithms []string
}

// NAT holds the per-endpoint NAT handling switches.
type NAT struct {
	ForceRport     bool // answer to the source port (RFC 3581) even without ;rport
	Comedia        bool // send media where it comes from (used by the media engine)
	RewriteContact bool // store and use the source address instead of the Contact's host:port
}

// Endpoint is a phone, a trunk or a server peer.
type Endpoint struct {
	Tech Tech
	Name string // "1000", "gw", ...; channel names are Tech/Name-XXXXXXXX
	Pos  Pos

	// Type is chan_sip's type= (friend, peer, user); pjsip endpoints are "friend".
	Type string

	Context     string
	Credentials []Credential // empty: no authentication required from this endpoint

	// Dynamic is true for host=dynamic / an AOR that accepts REGISTER.
	Dynamic bool
	// Host and Port are the static address (host=1.2.3.4, aor contact=sip:...).
	Host string
	Port int
	// StaticContacts are permanent contacts (pjsip aor contact=, sip.conf host=addr).
	StaticContacts []string

	// AOR is the address-of-record name this endpoint registers under; for
	// sip.conf it is the peer name, for pjsip the aors= list.
	AORs []string

	// Registration limits (pjsip aor max_contacts, remove_existing,
	// minimum_expiration, maximum_expiration, default_expiration;
	// sip.conf minexpiry/maxexpiry/defaultexpiry from [general]).
	MaxContacts    int // 0 = unlimited
	RemoveExisting bool
	MinExpiry      time.Duration
	MaxExpiry      time.Duration
	DefaultExpiry  time.Duration

	// Qualify: 0 disables OPTIONS pings. QualifyTimeout bounds one ping;
	// above it the contact is Unreachable (sip.conf qualify=yes is 2 s,
	// qualify=N is N ms; pjsip qualify_frequency/qualify_timeout).
	QualifyFrequency time.Duration
	QualifyTimeout   time.Duration

	NAT NAT

	Transport   string // pjsip transport= name, or "udp"/"tcp"
	Allow       []string
	DTMFMode    string
	DirectMedia bool
	// MediaEncryption is "sdes" for SRTP keyed in SDP (pjsip
	// media_encryption=sdes, sip.conf encryption=yes), else "".
	MediaEncryption string

	FromUser   string
	FromDomain string
	// OutboundAuth answers the endpoint's digest challenges to requests
	// gopbx sends it (a trunk that wants 401/407 on our INVITE): sip.conf
	// defaultuser (or the peer name) with remotesecret or secret, pjsip
	// outbound_auth=.
	OutboundAuth []Credential
	// OutboundProxy is where requests to the endpoint go instead of its
	// host (sip.conf outboundproxy=, pjsip outbound_proxy=): a SIP URI or
	// host[:port]; empty: none.
	OutboundProxy string
	CallerID      string // "Name" <number>
	CallLimit     int
	Insecure      []string // port, invite
	AccountCode   string
	Language      string
	MOH           string

	// Identify are source addresses that map an unauthenticated request to this
	// endpoint (pjsip identify match=, sip.conf host=address with insecure=port).
	Identify []netip.Prefix

	// Extra holds options known to exist but not used by the core yet, so
	// later features can read them without a parser change.
	Extra map[string]string
}

// Key is the unique name of an endpoint across technologies, e.g. "PJSIP/1000".
func (e *Endpoint) Key() string { return string(e.Tech) + "/" + e.Name }
