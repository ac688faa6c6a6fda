// Package pjsipconf loads res_pjsip's pjsip.conf into typed objects and maps
// its endpoints to endpoint.Endpoint.
//
// Every section is an object whose type= says what it is: transport,
// endpoint, auth, aor, identify, registration, global, system, domain_alias
// or acl (other res_pjsip types are kept as plain Objects). One name may be
// used by several objects of different types, the usual
//
//	[8005]
//	type=endpoint
//	auth=8005
//	aors=8005
//	[8005]
//	type=auth
//	...
//	[8005]
//	type=aor
//
// Defaults are res_pjsip's (Asterisk 20+, including the auth digest
// algorithm options), except user_agent, which defaults to "gopbx".
//
// As in Asterisk, a section without type= and two objects of the same type
// and name make the whole file invalid: FromFile returns an error citing
// file:line. Unknown options, unknown types, bad values and references to
// objects that do not exist (auth=, aors=, transport=, endpoint=) are
// warnings citing the line of the option. Asterisk refuses objects with
// unknown options; gopbx keeps them and warns.
package pjsipconf
