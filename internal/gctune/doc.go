// Package gctune sets the garbage collector's target from the live heap:
// with a small live heap (a PBX between bursts of call setups, or one
// with a few hundred calls up) Go's default target, twice the live heap,
// makes the collector run very often under load, and collection was a
// third of gopbx's CPU per call. Tune gives the collector a floor: the
// heap may grow to Floor before a cycle, and above it GOGC=100 applies as
// usual. This is the "GC tuner" of large Go services (Uber's, Twitch's
// ballast) without a ballast: the percentage is recomputed after each
// cycle. The floor applies only while the process allocates fast
// (BusyRate): an idle PBX keeps a small heap. An administrator's GOGC in
// the environment turns it off.
package gctune
