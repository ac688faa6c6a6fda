// Package pbx wires gopbx together: it loads the Asterisk-style
// configuration, opens the store, starts the SIP server with the registrar,
// serves the console, and reloads or stops all of it on request.
// cmd/gopbx only parses flags and signals and calls New and Run.
package pbx
