//go:build !linux

package kfwd

import (
	"errors"
	"net/netip"
)

// ErrUnsupported: in-kernel forwarding is Linux's nftables only.
var ErrUnsupported = errors.New("kfwd: in-kernel RTP forwarding needs Linux nftables")

// Forwarder is unavailable on this system.
type Forwarder struct{}

// Bridge is a bridge installed by Add.
type Bridge struct{ A, B Leg }

// Open always fails here.
func Open(string) (*Forwarder, error) { return nil, ErrUnsupported }

func (f *Forwarder) Close() error                       { return nil }
func (f *Forwarder) Table() string                      { return "" }
func (f *Forwarder) Reachable(netip.Addr) bool          { return false }
func (f *Forwarder) Add(a, b Leg) error                 { return ErrUnsupported }
func (f *Forwarder) Remove(a, b Leg) error              { return ErrUnsupported }
func (f *Forwarder) Counters() (map[Flow]uint64, error) { return nil, ErrUnsupported }
