// Package cli is gopbx's console, the equivalent of `asterisk -r`: a
// registry of commands ("sip show peers", "core reload", ...) served over a
// unix socket to `gopbx -r` (interactive, with live trace and log output) and
// `gopbx -rx CMD` (one command, then exit).
//
// Wire format, both directions: frames of "<type> <length>\n<payload>".
// The client sends type 'c' (a command line). The server answers with 'o'
// (output of the command), then 'e' (end; payload is "ok" or the error), and
// may send 'a' (asynchronous text such as SIP traces) at any time.
package cli
