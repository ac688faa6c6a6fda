package location

import (
	"cmp"
	"time"
)

// NoQ is the Q of a binding whose Contact carried no q parameter.
const NoQ = -1

// Binding is one registered contact of an address of record.
type Binding struct {
	// AOR is the address-of-record name, e.g. "1000" (the endpoint's AOR).
	AOR string
	// Contact is the Contact URI as the phone sent it, e.g.
	// "sip:1000@192.168.1.10:5060;transport=udp". With AOR it is the key.
	Contact string
	// Received is the source "ip:port" the REGISTER came from.
	Received string
	// Transport is "udp", "tcp", "tls", "ws" or "wss".
	Transport string
	// LocalAddr is our socket "ip:port" the REGISTER arrived on.
	LocalAddr string
	// Path is the Path header value (RFC 3327), empty when absent.
	Path string

	// CallID and CSeq are those of the REGISTER that last wrote this binding;
	// they order updates (see Supersedes).
	CallID string
	CSeq   uint32

	// Expires is when the binding stops being live.
	Expires time.Time
	// Q is the contact's q parameter in [0, 1], or NoQ when absent. Note that
	// the zero Binding has Q 0, the lowest priority, not NoQ.
	Q float64

	// InstanceID is the +sip.instance Contact parameter and RegID the reg-id
	// (RFC 5626); empty and 0 when absent.
	InstanceID string
	RegID      int

	UserAgent string
	// Updated is when the registrar last accepted a REGISTER for this
	// binding. Stores set it to time.Now() when it is zero.
	Updated time.Time

	// Node names the cluster node that holds the phone's connection; empty
	// on a single node.
	Node string
}

// Live reports whether b has not expired at now.
func (b Binding) Live(now time.Time) bool { return now.Before(b.Expires) }

// Supersedes reports whether b may replace old, the binding stored for the
// same AOR and Contact, as RFC 3261 §10.3 step 7 requires: the Call-IDs
// differ, or they match and b's CSeq is higher.
func (b Binding) Supersedes(old Binding) bool {
	return b.CallID != old.CallID || b.CSeq > old.CSeq
}

// Priority is the q value used for ordering: Q, or 1.0 when Q is NoQ (any
// negative value), so a phone that states no preference does not rank below
// one that asked for a lower priority.
func (b Binding) Priority() float64 {
	if b.Q < 0 {
		return 1
	}
	return b.Q
}

// Compare orders bindings the way Lookup returns them: higher Priority first,
// then the most recently Updated, then by Contact so the order is total.
func Compare(a, b Binding) int {
	if c := cmp.Compare(b.Priority(), a.Priority()); c != 0 {
		return c
	}
	if c := b.Updated.Compare(a.Updated); c != 0 {
		return c
	}
	return cmp.Compare(a.Contact, b.Contact)
}
