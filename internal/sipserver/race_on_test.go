//go:build race

package sipserver

const raceEnabled = true
