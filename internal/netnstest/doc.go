// Package netnstest runs a test's body inside a network namespace of its
// own whose loopback device carries extra addresses: tests that need
// several IPv6 addresses (the host's lo has only ::1) without touching the
// host's network.
package netnstest
