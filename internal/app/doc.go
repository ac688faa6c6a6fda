// Package app is the registry of dialplan applications, the Answer, Dial,
// Goto... that extensions.conf priorities run, and the contract between
// them and the dialplan engine (internal/dialplan).
//
// Each application lives in its own package under internal/app/<name>,
// like a CoreDNS plugin: setup.go registers a Factory in init,
//
//	func init() { app.Register("Answer", setup) }
//
// <name>.go implements App, and README.md documents Name, Syntax and
// Examples (an extensions.conf block that a test loads). Package
// internal/app/all imports the standard set, as Caddy's standard imports
// do; a program imports it once.
//
// Names are case-insensitive, as in Asterisk. Registering a name twice
// panics. The registry is written only by init functions; everything else
// an application needs comes from the Env its factory receives, one per
// engine: the channel registry, a logger, the dialplan (Goto, Gosub...),
// variables and a clock.
//
// See App for what Exec's return value means to the engine.
package app
