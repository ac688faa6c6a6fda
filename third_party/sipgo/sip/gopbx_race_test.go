//go:build race

package sip

// raceEnabled: the race detector changes what allocates (TestParseAllocs).
const raceEnabled = true
