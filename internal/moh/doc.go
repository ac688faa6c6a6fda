// Package moh is music on hold: musiconhold.conf classes in files mode
// (every sound file of a directory, in alphabetical or random order,
// looped), with the music shipped in gopbx's sounds/moh as the default
// class when none is configured.
package moh
