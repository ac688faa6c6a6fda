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
	v4 := a.Remote.Addr().Unmap().Is4()
	for _, x := range []netip.AddrPort{a.Remote, a.Local, b.Remote, b.Local} {
		ad := x.Addr().Unmap()
		if !ad.IsValid() || ad.IsUnspecified() || x.Port() == 0 {
			return fmt.Errorf("kfwd: %s: only addresses with a port are forwarded in the kernel", x)
		}
		if ad.Is4() != v4 {
			return fmt.Errorf("kfwd: %s: a bridge's addresses must all be IPv4 or all IPv6", x)
		}
	}
	return nil
}

// Pairable reports whether two far ends can be bridged in the kernel: an
// IPv4 and an IPv6 one cannot (the packet would change family).
func Pairable(a, b netip.Addr) bool { return a.Unmap().Is4() == b.Unmap().Is4() }
