// Package config reads Asterisk's .conf syntax exactly as main/config.c does,
// so sip.conf, pjsip.conf and extensions.conf files work unchanged.
//
// The syntax it understands:
//
//	[section]                 a new section; the same name may appear again
//	                          (pjsip.conf relies on this: [8005] type=endpoint,
//	                          [8005] type=auth, [8005] type=aor)
//	[name](!)                 a template: inheritable, hidden from File.All
//	[name](tpl1,tpl2)         inherit tpl1's then tpl2's variables, then its own
//	[name](!,tpl)             a template that inherits
//	[name](+)                 append to the first non-template section called name
//	[name](+type=aor)         ... the first whose variables match name=value
//	                          (unanchored regular expressions, as Asterisk)
//	key = value               whitespace around key and value is trimmed
//	key => value              the same, with Var.Arrow set (exten =>, register =>)
//	key += more               append to the last value of key
//	; comment                 to end of line; \; is a literal ';'
//	;-- block comment --;     may span lines and nest
//	#include "file"           also #include file, #include <file> and globs
//	#tryinclude file          like #include; a missing file is not an error
//	#exec program             reported as unsupported
//
// Relative #include names are resolved against the configuration directory,
// not against the including file, as Asterisk does. An included file starts
// in the section that was current at the #include line. Include loops and
// nesting deeper than ten files are errors.
//
// Parse never panics. Problems come back in two forms: a []Diag of warnings
// that Asterisk would log and carry on from, and one fatal error (a *Diag)
// where Asterisk would refuse the whole file. Both cite file:line and the
// chain of #include lines that led there. Fatal errors are returned as the
// *Diag itself, without a package prefix: the position is the prefix, as in
// a compiler message.
//
// The package also holds the value conventions shared by Asterisk's modules
// (ast_true, comma lists, codec allow/disallow, ACL and netmask syntax), so
// the typed loaders in sipconf and pjsipconf agree on them.
package config
