//go:build linux

package kfwd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Registers: a key (each field padded to 32 bits, as nft concatenations
// are) in the 32-bit registers from regKey, a map's value from regVal.
const (
	regKey = unix.NFT_REG32_00
	regVal = unix.NFT_REG32_00 + 4
)

// The destination port stays ours through routing: prerouting rewrites
// only the destination address, and input (local delivery) or postrouting
// (forwarded) finds the rest by (sender, new destination, our port). After
// a full destination rewrite nothing in the packet would say which of our
// ports it came to, and two calls may join the same two far ends (a
// gateway; the benchmark's generator). (Carrying an id in skb->priority
// fails on the forward path: ip_forward resets it from the TOS unless
// net.ipv4.ip_forward_update_priority=0; a mark would clash with fwmark
// routing and other users of the mark bits.)
//
// Every map is keyed by the packet's (saddr, sport, daddr, dport) as it is
// when the map is looked up, and each rule rewrites one field per map,
// reloading the key after each write: that is what the rules mean in
// nft's own syntax, so `nft list ruleset` prints them, and a saved
// ruleset loads back to the same rules (gopbx replaces its table at
// start anyway). Input and postrouting take three steps, each key still
// holding our port:
//
//	rtpsaddr (far end, other far end, our port)            -> our other address
//	rtpsport (our other address, ..., other far end, port) -> our other port
//	rtpdport (our other address and port, ...)             -> other far end's port
var tupleKey = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService, nftables.TypeIPAddr, nftables.TypeInetService)

// Forwarder installs and removes in-kernel forwarding of RTP streams.
type Forwarder struct {
	mu    sync.Mutex // one netlink batch at a time
	conn  *nftables.Conn
	table *nftables.Table
	dst   *nftables.Set // (from, to) -> new destination address; per-entry counters
	out   *nftables.Set // the keys of dst, uncounted: notrack for local senders
	saddr *nftables.Set // the three steps after routing, see tupleKey
	sport *nftables.Set
	dport *nftables.Set
	fwd   bool // net.ipv4.ip_forward
	local map[netip.Addr]bool
}

// Bridge is a call's two directions as installed; Remove takes it.
type Bridge struct {
	A, B                     Leg
	dst, saddr, sport, dport []nftables.SetElement
}

// Open creates (or recreates: a table left by a process that died is
// replaced) the nftables table name. It needs CAP_NET_ADMIN.
func Open(name string) (*Forwarder, error) {
	if name == "" {
		return nil, errors.New("kfwd: empty table name")
	}
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("kfwd: netlink: %w", err)
	}
	f := &Forwarder{conn: conn, local: map[netip.Addr]bool{}}
	f.table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: name}
	// Delete a stale table first: that needs it to exist, so add it (a
	// no-op when it does) in the same batch.
	conn.AddTable(f.table)
	conn.DelTable(f.table)
	if err := conn.Flush(); err != nil {
		_ = conn.CloseLasting()
		return nil, fmt.Errorf("kfwd: nftables table ip %s: %w", name, err)
	}
	if err := f.build(); err != nil {
		_ = conn.CloseLasting()
		return nil, err
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	f.fwd = err == nil && strings.TrimSpace(string(b)) == "1"
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				f.local[p.Addr().Unmap()] = true
			}
		}
	}
	return f, nil
}

func (f *Forwarder) build() error {
	c := f.conn
	c.AddTable(f.table)
	f.dst = &nftables.Set{Table: f.table, Name: "rtpdst", IsMap: true, KeyType: tupleKey, DataType: nftables.TypeIPAddr, Counter: true}
	f.out = &nftables.Set{Table: f.table, Name: "rtpout", KeyType: tupleKey}
	f.saddr = &nftables.Set{Table: f.table, Name: "rtpsaddr", IsMap: true, KeyType: tupleKey, DataType: nftables.TypeIPAddr}
	f.sport = &nftables.Set{Table: f.table, Name: "rtpsport", IsMap: true, KeyType: tupleKey, DataType: nftables.TypeInetService}
	f.dport = &nftables.Set{Table: f.table, Name: "rtpdport", IsMap: true, KeyType: tupleKey, DataType: nftables.TypeInetService}
	for _, s := range []*nftables.Set{f.dst, f.out, f.saddr, f.sport, f.dport} {
		if err := c.AddSet(s, nil); err != nil {
			return fmt.Errorf("kfwd: map %s: %w", s.Name, err)
		}
	}
	chain := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: f.table, Type: nftables.ChainTypeFilter, Hooknum: hook, Priority: prio})
	}
	pre := chain("pre", nftables.ChainHookPrerouting, nftables.ChainPriorityRaw)
	out := chain("out", nftables.ChainHookOutput, nftables.ChainPriorityRaw)
	in := chain("in", nftables.ChainHookInput, nftables.ChainPriorityNATSource)
	post := chain("post", nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)

	// Destination address rewrite before routing, so the route is the new
	// one; the port stays ours (see dstKey).
	c.AddRule(&nftables.Rule{Table: f.table, Chain: pre, Exprs: concat(udpChecked(), loadKey(), lookup(f.dst),
		write(unix.NFT_PAYLOAD_NETWORK_HEADER, 16, 4, 10, unix.NFT_PAYLOAD_L4CSUM_PSEUDOHDR), []expr.Any{&expr.Notrack{}})})
	// A local sender's packet is tracked on the way out unless told not to
	// (it is rewritten when it comes back in through lo's prerouting). A
	// set of its own, so dst's counters count each packet once.
	c.AddRule(&nftables.Rule{Table: f.table, Chain: out, Exprs: concat(udpChecked(), loadKey(),
		[]expr.Any{&expr.Lookup{SourceRegister: regKey, SetName: f.out.Name, SetID: f.out.ID}, &expr.Notrack{}})})
	// Source and destination port rewrite after routing, locally
	// delivered or forwarded.
	for _, ch := range []*nftables.Chain{in, post} {
		c.AddRule(&nftables.Rule{Table: f.table, Chain: ch, Exprs: concat(udpChecked(),
			loadKey(), lookup(f.saddr), write(unix.NFT_PAYLOAD_NETWORK_HEADER, 12, 4, 10, unix.NFT_PAYLOAD_L4CSUM_PSEUDOHDR),
			loadKey(), lookup(f.sport), write(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, 6, 0),
			loadKey(), lookup(f.dport), write(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, 6, 0))})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("kfwd: nftables table ip %s: %w", f.table.Name, err)
	}
	return nil
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// udpChecked matches UDP datagrams that carry a checksum.
func udpChecked() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		// A datagram without checksum (0, allowed over IPv4) stays in user
		// space: the port rewrites' incremental fix-up would turn its 0
		// into a wrong checksum.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 6, Len: 2},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0}},
	}
}

// loadKey loads (saddr, sport, daddr, dport).
func loadKey() []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Payload{DestRegister: regKey + 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2},
		&expr.Payload{DestRegister: regKey + 2, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Payload{DestRegister: regKey + 3, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
	}
}

func lookup(s *nftables.Set) []expr.Any {
	return []expr.Any{&expr.Lookup{SourceRegister: regKey, DestRegister: regVal, IsDestRegSet: true, SetName: s.Name, SetID: s.ID}}
}

// write writes the field at off from the last lookup's value.
func write(base expr.PayloadBase, off, n, csumOff, flags uint32) []expr.Any {
	return []expr.Any{&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: regVal, Base: base, Offset: off, Len: n,
		CsumType: expr.CsumTypeInet, CsumOffset: csumOff, CsumFlags: flags}}
}

// Close deletes the table: every stream goes back to user space.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conn.DelTable(f.table)
	err := f.conn.Flush()
	_ = f.conn.CloseLasting()
	if err != nil {
		return fmt.Errorf("kfwd: delete table ip %s: %w", f.table.Name, err)
	}
	return nil
}

// Table is the nftables table's name.
func (f *Forwarder) Table() string { return f.table.Name }

// Reachable reports whether packets to addr can be forwarded in the
// kernel: IPv4, and a local address unless the host forwards IP.
func (f *Forwarder) Reachable(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.Is4() {
		return false
	}
	return f.fwd || addr.IsLoopback() || f.local[addr]
}

// Add forwards both directions of a bridge in the kernel, atomically.
func (f *Forwarder) Add(a, b Leg) (*Bridge, error) {
	brs, err := f.AddBatch([][2]Leg{{a, b}})
	if err != nil {
		return nil, err
	}
	return brs[0], nil
}

// AddBatch adds several bridges in one netlink transaction: all or none.
// (One transaction costs ~60 µs, most of it the commit, whatever its size:
// when thousands of calls start at once, user space relays until their
// bridges are in.)
func (f *Forwarder) AddBatch(pairs [][2]Leg) ([]*Bridge, error) {
	brs := make([]*Bridge, len(pairs))
	for i, p := range pairs {
		if err := check(p[0], p[1]); err != nil {
			return nil, err
		}
		brs[i] = elems(p[0], p[1])
	}
	if err := f.apply(f.conn.SetAddElements, brs); err != nil {
		if len(pairs) == 1 {
			return nil, fmt.Errorf("kfwd: add %s<->%s: %w", pairs[0][0].Remote, pairs[0][1].Remote, err)
		}
		return nil, fmt.Errorf("kfwd: add %d bridges: %w", len(pairs), err)
	}
	return brs, nil
}

// Remove stops forwarding a bridge.
func (f *Forwarder) Remove(br *Bridge) error {
	if err := f.apply(f.conn.SetDeleteElements, []*Bridge{br}); err != nil {
		return fmt.Errorf("kfwd: remove %s<->%s: %w", br.A.Remote, br.B.Remote, err)
	}
	return nil
}

// apply adds or deletes bridges' elements in one netlink transaction.
func (f *Forwarder) apply(op func(*nftables.Set, []nftables.SetElement) error, brs []*Bridge) error {
	var dst, saddr, sport, dport []nftables.SetElement
	for _, br := range brs {
		dst, saddr = append(dst, br.dst...), append(saddr, br.saddr...)
		sport, dport = append(sport, br.sport...), append(dport, br.dport...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range []struct {
		set *nftables.Set
		els []nftables.SetElement
	}{{f.dst, dst}, {f.out, keys(dst)}, {f.saddr, saddr}, {f.sport, sport}, {f.dport, dport}} {
		if err := op(x.set, x.els); err != nil {
			return err
		}
	}
	return f.conn.Flush()
}

// Counters returns the packets forwarded so far per stream, keyed by
// its Flow (the far end's address and our port it sends to).
func (f *Forwarder) Counters() (map[Flow]uint64, error) {
	f.mu.Lock()
	els, err := f.conn.GetSetElements(f.dst)
	f.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("kfwd: read counters: %w", err)
	}
	out := make(map[Flow]uint64, len(els))
	for _, e := range els {
		if len(e.Key) != 16 || e.Counter == nil {
			continue
		}
		out[Flow{From: decodeAP(e.Key[0:8]), To: decodeAP(e.Key[8:16])}] = e.Counter.Packets
	}
	return out, nil
}

// elems builds a bridge's entries: for each direction, from x (far end)
// through our ports in (facing x) and out (facing y) to y.
func elems(a, b Leg) *Bridge {
	br := &Bridge{A: a, B: b}
	for _, d := range [2][4]netip.AddrPort{{a.Remote, a.Local, b.Local, b.Remote}, {b.Remote, b.Local, a.Local, a.Remote}} {
		x, in, out, y := d[0], d[1], d[2], d[3]
		br.dst = append(br.dst, nftables.SetElement{Key: cat(ap(x), ap(in)), Val: addr(y)})
		br.saddr = append(br.saddr, nftables.SetElement{Key: cat(ap(x), addr(y), port(in)), Val: addr(out)})
		br.sport = append(br.sport, nftables.SetElement{Key: cat(addr(out), port(x), addr(y), port(in)), Val: port(out)[:2]})
		br.dport = append(br.dport, nftables.SetElement{Key: cat(ap(out), addr(y), port(in)), Val: port(y)[:2]})
	}
	return br
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func keys(els []nftables.SetElement) []nftables.SetElement {
	out := make([]nftables.SetElement, len(els))
	for i, e := range els {
		out[i] = nftables.SetElement{Key: e.Key}
	}
	return out
}

// ap encodes an address and port as nft concatenates them: 4 address
// bytes, the port in network order padded to 4.
func ap(x netip.AddrPort) []byte { return cat(addr(x), port(x)) }

func addr(x netip.AddrPort) []byte {
	a := x.Addr().Unmap().As4()
	return a[:]
}

func port(x netip.AddrPort) []byte { return []byte{byte(x.Port() >> 8), byte(x.Port()), 0, 0} }

func decodeAP(b []byte) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[0:4])), uint16(b[4])<<8|uint16(b[5]))
}
