// Package demo holds the embedded configuration `go run ./cmd/gopbx` starts
// with: Asterisk-format files for four phones (1000-1003) and a demo
// dialplan. Passwords are generated on first start and kept in the data
// directory, so they are never the same on two installations and phones
// keep working across restarts.
package demo
