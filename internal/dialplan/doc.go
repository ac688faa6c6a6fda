// Package dialplan loads extensions.conf and runs calls through it, as
// Asterisk's pbx_config and pbx.c do.
//
// Loading (Load, Parse, FromConfig) builds a Dialplan from the config
// package's parse: [general] options, [globals], and one Context per other
// section with its extensions, includes (optionally timed), ignore
// patterns and switches. Priorities are numbered as pbx_config numbers
// them: "n" is the previous one plus one, "s"/"same" the previous one,
// labels are "n(label)" and "label+1" refers to one. Everything Asterisk
// would only log (an unknown application, a duplicate priority, a
// misspelled [general] option) is a warning citing file:line.
//
// Matching follows pbx.c: within a context, exact extensions come before
// patterns and patterns are ordered by ext_cmp, character by character,
// the smaller character class first (a digit, then [sets] by size, N, Z,
// X, then '.' and '!'); the first extension that matches and has the
// priority wins, then the includes are searched in order, depth first.
// Dialplan.Match, CanMatch and MatchMore answer "exists", "may exist with
// more digits" (484 vs 404 for a SIP driver).
//
// An Engine runs channels: Engine.Run executes priorities from the
// channel's location, substituting ${VAR}, ${VAR:offset:length},
// ${FUNC(args)} and $[expressions] (package expr) in the arguments, and
// calling the registered applications (package app). It owns the global
// variables and implements app.Dialplan for the applications that move the
// channel (Goto, Gosub, Macro).
//
// Dialplan.Show prints "dialplan show"; Test is an offline dry run for
// "gopbx dialplan test".
package dialplan
