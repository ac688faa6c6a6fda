// Package siptest sends hand-written SIP messages over real loopback sockets
// and reads the answers, for tests of the SIP core that need exact bytes
// (malformed input, precise header sets) rather than a full user agent.
package siptest
