// Package rtp owns the UDP sockets of anchored media: a port allocator over
// rtp.conf's range and a Session per call leg that latches onto the
// address packets really come from (symmetric RTP / comedia) and sends
// packets with its own SSRC, sequence and clock.
//
// Sockets are raw non-blocking descriptors read by a few pollers (one per
// CPU, at most four): level-triggered epoll, one recvfrom per ready socket
// and the handler run inline, so a relayed packet costs a receive and a
// send and no goroutine wake-up, and a held call costs no goroutine at all.
// A Session has two sockets (RTP on an even port, RTCP on the next odd
// one), so a call holds four descriptors. The RTCP socket is bound, so
// peers get no ICMP errors, with a small receive buffer, and not read.
//
// A closed Session's sockets are parked, still bound and registered, and
// reused by an Open on the same address after a quarantine, their queues
// drained first: a call then costs no socket, bind, epoll_ctl or close.
package rtp
