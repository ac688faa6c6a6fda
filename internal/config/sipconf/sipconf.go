package sipconf

import (
	"net/netip"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// Defaults that differ from chan_sip or that other packages may want to cite.
const (
	DefaultContext       = "default"
	DefaultUserAgent     = "gopbx" // chan_sip: "Asterisk PBX <version>"
	DefaultRealm         = "asterisk"
	DefaultPort          = 5060
	DefaultTLSPort       = 5061
	DefaultMinExpiry     = 60 * time.Second
	DefaultMaxExpiry     = 3600 * time.Second
	DefaultDefaultExpiry = 120 * time.Second
	DefaultQualifyFreq   = 60 * time.Second
	DefaultQualifyMaxMS  = 2000 * time.Millisecond // qualify=yes
)

// Config is a loaded sip.conf.
type Config struct {
	Path    string
	General General
	// Peers are the [peer] sections with a valid type=, in file order.
	Peers []*Peer
	// Auth holds the raw auth= lines of [authentication] (outbound realm
	// credentials, user:secret@realm), kept for the trunk code.
	Auth []config.Var
}

// General is the [general] section.
type General struct {
	Pos config.Pos // zero when sip.conf has no [general]

	Context          string // default context for peers and guests ("default")
	AllowGuest       bool   // chan_sip defaults to yes; gopbx defaults to NO so a fresh install takes no anonymous calls
	AlwaysAuthReject bool   // answer unknown users like bad passwords (yes)

	// Listening addresses, host:port. UDP is always on; TCP and TLS only
	// when enabled. bindport overrides a port given in bindaddr.
	UDPBindAddr string
	TCPEnable   bool
	TCPBindAddr string // defaults to the UDP address, as chan_sip
	TLSEnable   bool
	TLSBindAddr string // defaults to the UDP host on port 5061
	TLSCertFile string
	TLSPrivKey  string
	TLSCAFile   string
	TLSCipher   string
	TLSMethod   string // tlsclientmethod
	// Where the three files were named, for errors about them.
	TLSCertPos, TLSKeyPos, TLSCAPos config.Pos
	TLSVerifyClient                 bool // ask phones for a certificate (checked against tlscafile)
	TLSDontVerifyServer             bool // outbound TLS: accept any server certificate

	// NAT: externaddr/externip (host[:port]), externhost (a name to
	// resolve), and the local networks that are not behind the NAT.
	ExternAddr    string
	ExternHost    string
	ExternRefresh time.Duration
	ExternTCPPort int
	ExternTLSPort int
	LocalNets     []netip.Prefix
	MediaAddress  string

	UserAgent     string
	Realm         string
	MinExpiry     time.Duration
	MaxExpiry     time.Duration
	DefaultExpiry time.Duration
	QualifyFreq   time.Duration
	SRVLookup     bool
	CallerID      string // for calls from unknown peers ("asterisk")
	FromDomain    string // default From domain for calls to non-peers
	Domains       []string
	RegContext    string

	// Registers are the register => lines, parsed.
	Registers []Register

	// Options are the recognised [general] options as written (lower-case
	// names; repeated options joined with ","), for features not typed here.
	Options map[string]string

	// PeerDefaults are the peer settings [general] sets for every peer
	// (nat, dtmfmode, allow, qualify, context, language, ...).
	PeerDefaults Peer
}

// NAT is chan_sip's nat= setting.
type NAT struct {
	ForceRport     bool // force_rport (or yes)
	Comedia        bool // comedia (or yes)
	AutoForceRport bool // auto_force_rport: force_rport when NAT is detected (chan_sip's default)
	AutoComedia    bool // auto_comedia
}

// String returns the nat= value that gives n.
func (n NAT) String() string {
	var parts []string
	if n.ForceRport {
		parts = append(parts, "force_rport")
	}
	if n.AutoForceRport {
		parts = append(parts, "auto_force_rport")
	}
	if n.Comedia {
		parts = append(parts, "comedia")
	}
	if n.AutoComedia {
		parts = append(parts, "auto_comedia")
	}
	if len(parts) == 0 {
		return "no"
	}
	return strings.Join(parts, ",")
}

// Peer is one sip.conf device: type=friend, peer or user.
type Peer struct {
	Name string
	Pos  config.Pos
	Type string // friend, peer or user

	Host    string // static address or host name; empty when dynamic
	Dynamic bool   // host=dynamic: it registers
	Port    int    // port= or host=addr:port; 0 = default
	// DefaultIP is where to reach a dynamic peer that has not registered.
	DefaultIP string

	Secret       string
	MD5Secret    string // hex MD5(name:realm:secret)
	RemoteSecret string // what we authenticate with towards the peer
	// Username is the username= value; DefaultUser is the effective user
	// for calls to the peer (defaultuser=, or the deprecated username=).
	Username    string
	DefaultUser string
	FromUser    string
	FromDomain  string

	Context       string
	NAT           NAT
	Insecure      []string      // port, invite
	Qualify       time.Duration // max round trip; 0: no qualify
	QualifyFreq   time.Duration
	DTMFMode      string // rfc2833, info, shortinfo, inband, auto
	DirectMedia   bool
	CallerID      string
	CallLimit     int
	Allow         []string
	Transports    []string // first is the default for outgoing requests
	AccountCode   string
	Language      string
	MOHSuggest    string
	MOHInterpret  string
	ACL           []config.ACLRule // deny=/permit=, in order
	OutboundProxy string

	// Options are the recognised options of the section as written
	// (lower-case names, last value; repeated ones joined with ",").
	// Settings inherited from [general] are not included.
	Options map[string]string
}

// Peer returns the peer called name, or nil.
func (c *Config) Peer(name string) *Peer {
	if c == nil {
		return nil
	}
	for _, p := range c.Peers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Load reads sip.conf (and its includes) from path.
func Load(path string, opts ...config.Option) (*Config, []config.Diag, error) {
	f, diags, err := config.ParseFile(path, opts...)
	if err != nil {
		return nil, diags, err
	}
	c, more, err := FromFile(f)
	return c, append(diags, more...), err
}

// Parse reads sip.conf from data, for tests.
func Parse(name string, data []byte, opts ...config.Option) (*Config, []config.Diag, error) {
	f, diags, err := config.Parse(name, data, opts...)
	if err != nil {
		return nil, diags, err
	}
	c, more, err := FromFile(f)
	return c, append(diags, more...), err
}

func (p *Peer) clone() *Peer {
	q := *p
	q.Insecure = append([]string(nil), p.Insecure...)
	q.Allow = append([]string(nil), p.Allow...)
	q.Transports = append([]string(nil), p.Transports...)
	q.ACL = append([]config.ACLRule(nil), p.ACL...)
	q.Options = make(map[string]string)
	return &q
}

func setOption(m map[string]string, name, value string, repeatable bool) {
	if old, ok := m[name]; ok && repeatable && old != "" {
		m[name] = old + "," + value
		return
	}
	m[name] = value
}
