// Package kfwd forwards relayed RTP inside the Linux kernel, the way
// rtpengine's in-kernel mode does, so that a bridged call whose packets
// need no inspection costs no user-space CPU per packet.
//
// A Forwarder owns one nftables table per family (ip, and ip6 when the
// kernel has it; one name), with the same maps and rules. In prerouting, a
// packet from a far end's latched address to our RTP port gets the other
// far end's address as destination; in input (local delivery) or
// postrouting (forwarded) the same packet gets our other RTP port as
// source and the other far end's port as destination. The rules are
// plain nft (`nft list ruleset` prints them, a saved ruleset loads back). Both rewrites are stateless payload
// writes with checksum fix-up, and the packets are marked notrack, so no
// conntrack entry is made per stream. The key includes the sender's
// address, so a packet from anywhere else (a phone whose NAT binding
// moved, an attacker) still reaches user space, where latching decides.
//
// Packets between two remote hosts are forwarded by the kernel: that needs
// net.ipv4.ip_forward=1 (net.ipv6.conf.all.forwarding=1) and a firewall
// that lets them through; the caller decides with Reachable and Pairable
// (a bridge between an IPv4 and an IPv6 far end stays in user space).
package kfwd
