package pjsipconf

import (
	"net/netip"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// DefaultUserAgent replaces Asterisk's "Asterisk PBX <version>".
const DefaultUserAgent = "gopbx"

// Config is a loaded pjsip.conf: its objects by type, in file order.
type Config struct {
	Path   string
	Global Global
	System System

	Transports []*Transport
	// EndpointObjects are the type=endpoint objects; Endpoints() maps them,
	// with their auths, AORs and identifies, to endpoint.Endpoint.
	EndpointObjects []*Endpoint
	Auths           []*Auth
	AORs            []*AOR
	Identifies      []*Identify
	Registrations   []*Registration
	DomainAliases   []*DomainAlias
	ACLs            []*ACL
	// Others are objects of types res_pjsip knows but gopbx does not model
	// (contact, outbound-publish, resource_list, phoneprov, ...).
	Others []*Object
}

// Object is what every pjsip.conf object has.
type Object struct {
	ID   string // the section name
	Type string
	Pos  config.Pos
	// Options are the recognised options as written (lower-case names, last
	// value; repeatable ones joined with ","), for features not typed here.
	Options map[string]string
}

// Global is the type=global object.
type Global struct {
	Object
	UserAgent                 string        // "gopbx"
	DefaultRealm              string        // "asterisk"
	MaxForwards               int           // 70
	KeepAliveInterval         time.Duration // 90 s
	EndpointIdentifierOrder   []string      // ip, username, anonymous
	DefaultOutboundEndpoint   string        // "default_outbound_endpoint"
	DefaultFromUser           string        // "asterisk"
	DefaultVoicemailExtension string
	RegContext                string
	ContactExpirationCheck    time.Duration // contact_expiration_check_interval, 30 s
	DisableMultiDomain        bool
	IgnoreURIUserOptions      bool
	UnidentifiedRequestCount  int           // 5
	UnidentifiedRequestPeriod time.Duration // 5 s
	UnidentifiedRequestPrune  time.Duration // 30 s
	DefaultAuthAlgorithmsUAS  []string      // MD5
	DefaultAuthAlgorithmsUAC  []string      // MD5
}

// System is the type=system object.
type System struct {
	Object
	TimerT1                  time.Duration // 500 ms
	TimerB                   time.Duration // 32 s
	CompactHeaders           bool
	DisableTCPSwitch         bool // yes
	FollowEarlyMediaFork     bool // yes
	AcceptMultipleSDPAnswers bool
	DisableRport             bool
}

// Transport is a type=transport object.
type Transport struct {
	Object
	Protocol string // udp, tcp, tls, ws, wss, flow
	// Bind is host:port, with the protocol's default port filled in (5060,
	// 5061 for tls). Asterisk serves ws and wss from its HTTP server, so
	// for them Bind is only what was written (default 0.0.0.0:8088/8089).
	Bind                     string
	ExternalSignalingAddress string
	ExternalSignalingPort    int
	ExternalMediaAddress     string
	LocalNets                []netip.Prefix
	CertFile                 string
	PrivKeyFile              string
	CAListFile               string
	CAListPath               string
	Password                 string
	Method                   string
	Cipher                   []string
	VerifyServer             bool
	VerifyClient             bool
	RequireClientCert        bool
	Domain                   string
	AllowReload              bool
	SymmetricTransport       bool
	// Where cert_file, priv_key_file and ca_list_file were set.
	CertPos, PrivKeyPos, CAListPos config.Pos
}

// Endpoint is a type=endpoint object. Defaults are res_pjsip's.
type Endpoint struct {
	Object
	Context           string // default
	Allow             []string
	Transport         string
	Auth              []string
	OutboundAuth      []string
	AORs              []string
	DirectMedia       bool   // yes
	RewriteContact    bool   // no
	ForceRport        bool   // yes
	RTPSymmetric      bool   // no
	DTMFMode          string // rfc4733
	CallerID          string
	FromUser          string
	FromDomain        string
	MediaEncryption   string // no, sdes, dtls
	Language          string
	MOHSuggest        string // default
	AccountCode       string
	IdentifyBy        []string // username, ip
	DeviceStateBusyAt int
	TrustIDInbound    bool
	TrustIDOutbound   bool
	SendPAI           bool
	SendRPID          bool
	Rel100            string // 100rel: yes, no, required, peer_supported
	Timers            string // yes, no, required, always
	TimersMinSE       int    // 90
	TimersSessExpires int    // 1800
	ICESupport        bool
	UseAVPF           bool
	WebRTC            bool
	OutboundProxy     string
	Mailboxes         string
	ACL               []config.ACLRule // deny=/permit=

	refs []ref
}

// Auth is a type=auth object.
type Auth struct {
	Object
	AuthType string // userpass (default), md5, digest, google_oauth
	Username string
	Password string
	// Digests are precomputed password hashes by algorithm: md5_cred gives
	// "MD5"; password_digest gives "SHA-256:..." and so on.
	Digests       map[string]string
	Realm         string
	NonceLifetime time.Duration // 32 s
	// SupportedAlgorithmsUAS/UAC are as configured; empty means the
	// global default_auth_algorithms_uas/uac.
	SupportedAlgorithmsUAS []string
	SupportedAlgorithmsUAC []string
}

// AOR is a type=aor object.
type AOR struct {
	Object
	MaxContacts         int
	RemoveExisting      bool
	RemoveUnavailable   bool
	MinimumExpiration   time.Duration // 60 s
	MaximumExpiration   time.Duration // 7200 s
	DefaultExpiration   time.Duration // 3600 s
	QualifyFrequency    time.Duration // 0: off
	QualifyTimeout      time.Duration // 3 s
	AuthenticateQualify bool
	Contacts            []string // permanent contacts
	Mailboxes           string
	VoicemailExtension  string
	OutboundProxy       string
	SupportPath         bool
}

// Identify is a type=identify object.
type Identify struct {
	Object
	Endpoint        string
	Match           []netip.Prefix
	MatchHosts      []string // host names, resolved at run time
	MatchHeader     string
	MatchRequestURI string
	SRVLookups      bool // yes

	refs []ref
}

// Registration is a type=registration object (outbound registration).
type Registration struct {
	Object
	ServerURI              string
	ClientURI              string
	ContactUser            string // empty: Asterisk uses "s"
	ContactHeaderParams    string
	Transport              string
	OutboundProxy          string
	OutboundAuth           []string
	Expiration             time.Duration // 3600 s
	RetryInterval          time.Duration // 60 s
	ForbiddenRetryInterval time.Duration // 0
	FatalRetryInterval     time.Duration // 0
	MaxRetries             int           // 10
	MaxRandomInitialDelay  time.Duration // 10 s
	AuthRejectionPermanent bool          // yes
	SupportPath            bool
	SupportOutbound        bool
	Line                   bool
	Endpoint               string

	refs []ref
}

// DomainAlias is a type=domain_alias object.
type DomainAlias struct {
	Object
	Domain string
}

// ACL is a type=acl object.
type ACL struct {
	Object
	Rules        []config.ACLRule // permit=/deny=
	ContactRules []config.ACLRule // contact_permit=/contact_deny=
}

// ref is a name one object uses to refer to another, checked after loading.
type ref struct {
	kind string // "auth", "aor", "transport", "endpoint"
	name string
	pos  config.Pos
	opt  string
}

// Endpoint returns the endpoint object with the given id, or nil.
func (c *Config) Endpoint(id string) *Endpoint { return find(c.EndpointObjects, id) }

// Auth returns the auth object with the given id, or nil.
func (c *Config) Auth(id string) *Auth { return find(c.Auths, id) }

// AOR returns the aor object with the given id, or nil.
func (c *Config) AOR(id string) *AOR { return find(c.AORs, id) }

// Transport returns the transport with the given id, or nil.
func (c *Config) Transport(id string) *Transport { return find(c.Transports, id) }

type identified interface{ id() string }

func (o *Object) id() string { return o.ID }

func find[P identified](list []P, id string) P {
	var zero P
	if id == "" {
		return zero
	}
	for _, x := range list {
		if x.id() == id {
			return x
		}
	}
	return zero
}
