// Package rtp owns the UDP sockets of anchored media: a port allocator over
// rtp.conf's range and a Session per call leg that receives RTP on one
// goroutine, latches onto the address packets really come from (symmetric
// RTP / comedia) and sends packets with its own SSRC, sequence and clock.
//
// A Session has two sockets (RTP on an even port, RTCP on the next odd
// one), so a relayed call holds four descriptors. The RTCP socket is bound
// so peers get no ICMP errors but is not read: a reader per socket would
// double the goroutines of every call for reports nobody consumes yet.
package rtp
