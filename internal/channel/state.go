package channel

// State is a channel's call state, named as `core show channels` prints it.
type State int

const (
	StateDown State = iota
	StateReserved
	StateOffHook
	StateDialing
	StateRing    // inbound: the call is being set up on our side
	StateRinging // outbound: the far end is alerting
	StateUp
	StateBusy
)

var stateNames = [...]string{"Down", "Rsrvd", "OffHook", "Dialing", "Ring", "Ringing", "Up", "Busy"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

// Indication is a call-progress signal sent towards a channel's peer.
type Indication int

const (
	IndRinging    Indication = iota // 180
	IndProgress                     // 183 (early media)
	IndBusy                         // 486 (before answer) or busy tone
	IndCongestion                   // 503 (before answer) or congestion tone
	IndHold
	IndUnhold
)

func (i Indication) String() string {
	switch i {
	case IndRinging:
		return "Ringing"
	case IndProgress:
		return "Progress"
	case IndBusy:
		return "Busy"
	case IndCongestion:
		return "Congestion"
	case IndHold:
		return "Hold"
	case IndUnhold:
		return "Unhold"
	}
	return "Unknown"
}
