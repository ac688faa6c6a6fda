package kfwd

import (
	"fmt"
	"net/netip"
)

// Leg is one side of a bridge: the far end's latched address and our RTP
// socket facing it.
type Leg struct {
	Remote, Local netip.AddrPort
}

// Flow is one direction as the kernel sees it arrive: from the far end's
// address to our port.
type Flow struct {
	From, To netip.AddrPort
}

// Flows are the two directions of a bridge, a's first.
func Flows(a, b Leg) [2]Flow {
	return [2]Flow{{From: unmap(a.Remote), To: unmap(a.Local)}, {From: unmap(b.Remote), To: unmap(b.Local)}}
}

func unmap(x netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(x.Addr().Unmap(), x.Port()) }

func check(a, b Leg) error {
	for _, x := range []netip.AddrPort{a.Remote, a.Local, b.Remote, b.Local} {
		if !x.Addr().Unmap().Is4() || x.Port() == 0 {
			return fmt.Errorf("kfwd: %s: only IPv4 addresses with a port are forwarded in the kernel", x)
		}
	}
	return nil
}
