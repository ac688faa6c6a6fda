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
// are) in the 32-bit registers from regKey, a map's value from the
// family's regVal, after the key: an IPv6 key takes 10 registers of the
// 16, its value (an address) 4 more.
const regKey = unix.NFT_REG32_00

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
//
// IPv4 and IPv6 each have a table of their own (families ip and ip6, one
// name) with the same maps and rules; only the header offsets, the
// address length and the checksums differ (IPv6 has no header checksum,
// but the UDP checksum covers the addresses through the pseudo-header).
type family struct {
	table   *nftables.Table
	alen    uint32 // address bytes
	saddr   uint32 // offsets in the network header
	daddr   uint32
	regVal  uint32
	csumNet expr.PayloadCsumType // of an address write: the IPv4 header checksum
	tuple   nftables.SetDatatype
	addrT   nftables.SetDatatype

	dst      *nftables.Set // (from, to) -> new destination address; per-entry counters
	out      *nftables.Set // the keys of dst, uncounted: notrack for local senders
	saddrMap *nftables.Set // the three steps after routing, see above
	sport    *nftables.Set
	dport    *nftables.Set
}

func newFamily(name string, v6 bool) *family {
	if v6 {
		return &family{table: &nftables.Table{Family: nftables.TableFamilyIPv6, Name: name}, alen: 16, saddr: 8, daddr: 24,
			regVal: regKey + 10, csumNet: expr.CsumTypeNone,
			tuple: nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeInetService, nftables.TypeIP6Addr, nftables.TypeInetService),
			addrT: nftables.TypeIP6Addr}
	}
	return &family{table: &nftables.Table{Family: nftables.TableFamilyIPv4, Name: name}, alen: 4, saddr: 12, daddr: 16,
		regVal: regKey + 4, csumNet: expr.CsumTypeInet,
		tuple: nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService, nftables.TypeIPAddr, nftables.TypeInetService),
		addrT: nftables.TypeIPAddr}
}

func (fm *family) String() string {
	if fm.alen == 16 {
		return "ip6 " + fm.table.Name
	}
	return "ip " + fm.table.Name
}

// Forwarder installs and removes in-kernel forwarding of RTP streams.
type Forwarder struct {
	mu         sync.Mutex // one netlink batch at a time
	conn       *nftables.Conn
	v4, v6     *family // v6 nil when the kernel has no ip6 nf_tables
	fwd4, fwd6 bool    // net.ipv4.ip_forward, net.ipv6.conf.all.forwarding
	local      map[netip.Addr]bool
}

// Bridge is a call's two directions as installed; Remove takes it.
type Bridge struct {
	A, B                     Leg
	fam                      *family
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
	f := &Forwarder{conn: conn, local: map[netip.Addr]bool{}, v4: newFamily(name, false)}
	if err := f.create(f.v4); err != nil {
		_ = conn.CloseLasting()
		return nil, err
	}
	// IPv6 is forwarded too when the kernel has it; without, IPv6 calls
	// stay in user space as they did.
	if v6 := newFamily(name, true); f.create(v6) == nil {
		f.v6 = v6
	}
	f.fwd4 = sysctlOn("/proc/sys/net/ipv4/ip_forward")
	f.fwd6 = sysctlOn("/proc/sys/net/ipv6/conf/all/forwarding")
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				f.local[p.Addr().Unmap()] = true
			}
		}
	}
	return f, nil
}

func sysctlOn(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// create makes fm's table, replacing a stale one (a table left by a
// process that died).
func (f *Forwarder) create(fm *family) error {
	// Deleting needs the table to exist, so add it (a no-op when it does)
	// in the same batch.
	f.conn.AddTable(fm.table)
	f.conn.DelTable(fm.table)
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("kfwd: nftables table %s: %w", fm, err)
	}
	return f.build(fm)
}

func (f *Forwarder) build(fm *family) error {
	c := f.conn
	c.AddTable(fm.table)
	tab := fm.table
	fm.dst = &nftables.Set{Table: tab, Name: "rtpdst", IsMap: true, KeyType: fm.tuple, DataType: fm.addrT, Counter: true}
	fm.out = &nftables.Set{Table: tab, Name: "rtpout", KeyType: fm.tuple}
	fm.saddrMap = &nftables.Set{Table: tab, Name: "rtpsaddr", IsMap: true, KeyType: fm.tuple, DataType: fm.addrT}
	fm.sport = &nftables.Set{Table: tab, Name: "rtpsport", IsMap: true, KeyType: fm.tuple, DataType: nftables.TypeInetService}
	fm.dport = &nftables.Set{Table: tab, Name: "rtpdport", IsMap: true, KeyType: fm.tuple, DataType: nftables.TypeInetService}
	for _, s := range []*nftables.Set{fm.dst, fm.out, fm.saddrMap, fm.sport, fm.dport} {
		if err := c.AddSet(s, nil); err != nil {
			return fmt.Errorf("kfwd: map %s: %w", s.Name, err)
		}
	}
	chain := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: tab, Type: nftables.ChainTypeFilter, Hooknum: hook, Priority: prio})
	}
	pre := chain("pre", nftables.ChainHookPrerouting, nftables.ChainPriorityRaw)
	out := chain("out", nftables.ChainHookOutput, nftables.ChainPriorityRaw)
	in := chain("in", nftables.ChainHookInput, nftables.ChainPriorityNATSource)
	post := chain("post", nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)

	// Destination address rewrite before routing, so the route is the new
	// one; the port stays ours (see dstKey).
	c.AddRule(&nftables.Rule{Table: tab, Chain: pre, Exprs: concat(udpChecked(), fm.loadKey(), fm.lookup(fm.dst),
		fm.write(unix.NFT_PAYLOAD_NETWORK_HEADER, fm.daddr, fm.alen, fm.csumNet, 10, unix.NFT_PAYLOAD_L4CSUM_PSEUDOHDR), []expr.Any{&expr.Notrack{}})})
	// A local sender's packet is tracked on the way out unless told not to
	// (it is rewritten when it comes back in through lo's prerouting). A
	// set of its own, so dst's counters count each packet once.
	c.AddRule(&nftables.Rule{Table: tab, Chain: out, Exprs: concat(udpChecked(), fm.loadKey(),
		[]expr.Any{&expr.Lookup{SourceRegister: regKey, SetName: fm.out.Name, SetID: fm.out.ID}, &expr.Notrack{}})})
	// Source and destination port rewrite after routing, locally
	// delivered or forwarded.
	for _, ch := range []*nftables.Chain{in, post} {
		c.AddRule(&nftables.Rule{Table: tab, Chain: ch, Exprs: concat(udpChecked(),
			fm.loadKey(), fm.lookup(fm.saddrMap), fm.write(unix.NFT_PAYLOAD_NETWORK_HEADER, fm.saddr, fm.alen, fm.csumNet, 10, unix.NFT_PAYLOAD_L4CSUM_PSEUDOHDR),
			fm.loadKey(), fm.lookup(fm.sport), fm.write(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, expr.CsumTypeInet, 6, 0),
			fm.loadKey(), fm.lookup(fm.dport), fm.write(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, expr.CsumTypeInet, 6, 0))})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("kfwd: nftables table %s: %w", fm, err)
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
func (fm *family) loadKey() []expr.Any {
	r := uint32(regKey)
	k := fm.alen / 4 // registers per address
	return []expr.Any{
		&expr.Payload{DestRegister: r, Base: expr.PayloadBaseNetworkHeader, Offset: fm.saddr, Len: fm.alen},
		&expr.Payload{DestRegister: r + k, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2},
		&expr.Payload{DestRegister: r + k + 1, Base: expr.PayloadBaseNetworkHeader, Offset: fm.daddr, Len: fm.alen},
		&expr.Payload{DestRegister: r + 2*k + 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
	}
}

func (fm *family) lookup(s *nftables.Set) []expr.Any {
	return []expr.Any{&expr.Lookup{SourceRegister: regKey, DestRegister: fm.regVal, IsDestRegSet: true, SetName: s.Name, SetID: s.ID}}
}

// write writes the field at off from the last lookup's value, fixing the
// checksum at csumOff of the same header (csum) and, with flags, the UDP
// checksum's pseudo-header part.
func (fm *family) write(base expr.PayloadBase, off, n uint32, csum expr.PayloadCsumType, csumOff, flags uint32) []expr.Any {
	if csum == expr.CsumTypeNone {
		csumOff = 0
	}
	return []expr.Any{&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: fm.regVal, Base: base, Offset: off, Len: n,
		CsumType: csum, CsumOffset: csumOff, CsumFlags: flags}}
}

// Close deletes the tables: every stream goes back to user space.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fm := range f.families() {
		f.conn.DelTable(fm.table)
	}
	err := f.conn.Flush()
	_ = f.conn.CloseLasting()
	if err != nil {
		return fmt.Errorf("kfwd: delete table %s: %w", f.v4.table.Name, err)
	}
	return nil
}

func (f *Forwarder) families() []*family {
	if f.v6 == nil {
		return []*family{f.v4}
	}
	return []*family{f.v4, f.v6}
}

// Table is the nftables tables' name (families ip and ip6).
func (f *Forwarder) Table() string { return f.v4.table.Name }

// IPv6 reports whether IPv6 streams are forwarded in the kernel too.
func (f *Forwarder) IPv6() bool { return f.v6 != nil }

// Reachable reports whether packets to addr can be forwarded in the
// kernel: a family the kernel has a table for, and a local address unless
// the host forwards that family. (Both legs of a bridge must be of one
// family: see Pairable.)
func (f *Forwarder) Reachable(addr netip.Addr) bool {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		return f.fwd4 || addr.IsLoopback() || f.local[addr]
	case addr.Is6() && f.v6 != nil:
		return f.fwd6 || addr.IsLoopback() || f.local[addr]
	}
	return false
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
		fm := f.v4
		if p[0].Remote.Addr().Unmap().Is6() {
			if fm = f.v6; fm == nil {
				return nil, fmt.Errorf("kfwd: %s: the kernel has no ip6 nf_tables", p[0].Remote)
			}
		}
		brs[i] = elems(fm, p[0], p[1])
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
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fm := range f.families() {
		var dst, saddr, sport, dport []nftables.SetElement
		for _, br := range brs {
			if br.fam == fm {
				dst, saddr = append(dst, br.dst...), append(saddr, br.saddr...)
				sport, dport = append(sport, br.sport...), append(dport, br.dport...)
			}
		}
		if len(dst) == 0 {
			continue
		}
		for _, x := range []struct {
			set *nftables.Set
			els []nftables.SetElement
		}{{fm.dst, dst}, {fm.out, keys(dst)}, {fm.saddrMap, saddr}, {fm.sport, sport}, {fm.dport, dport}} {
			if err := op(x.set, x.els); err != nil {
				return err
			}
		}
	}
	return f.conn.Flush()
}

// Counters returns the packets forwarded so far per stream, keyed by
// its Flow (the far end's address and our port it sends to).
func (f *Forwarder) Counters() (map[Flow]uint64, error) {
	out := make(map[Flow]uint64)
	for _, fm := range f.families() {
		f.mu.Lock()
		els, err := f.conn.GetSetElements(fm.dst)
		f.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("kfwd: read counters of %s: %w", fm, err)
		}
		w := int(fm.alen) + 4
		for _, e := range els {
			if len(e.Key) != 2*w || e.Counter == nil {
				continue
			}
			out[Flow{From: fm.decodeAP(e.Key[:w]), To: fm.decodeAP(e.Key[w:])}] = e.Counter.Packets
		}
	}
	return out, nil
}

// elems builds a bridge's entries: for each direction, from x (far end)
// through our ports in (facing x) and out (facing y) to y.
func elems(fm *family, a, b Leg) *Bridge {
	br := &Bridge{A: a, B: b, fam: fm}
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

// ap encodes an address and port as nft concatenates them: the address's
// 4 or 16 bytes, the port in network order padded to 4.
func ap(x netip.AddrPort) []byte { return cat(addr(x), port(x)) }

func addr(x netip.AddrPort) []byte { return x.Addr().Unmap().AsSlice() }

func port(x netip.AddrPort) []byte { return []byte{byte(x.Port() >> 8), byte(x.Port()), 0, 0} }

func (fm *family) decodeAP(b []byte) netip.AddrPort {
	a, _ := netip.AddrFromSlice(b[:fm.alen])
	return netip.AddrPortFrom(a, uint16(b[fm.alen])<<8|uint16(b[fm.alen+1]))
}
