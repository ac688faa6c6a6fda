// Package voice holds the applications that speak and listen on anchored
// media: Playback, Background, WaitExten, Read, SayDigits, SayNumber,
// SayAlpha, Echo, Record, MusicOnHold and Milliwatt. They share the
// player and digit collection in package app (MediaEnv).
package voice
