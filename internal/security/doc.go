// Package security is gopbx's built-in fail2ban: a table of banned source
// addresses fed by failed authentications, a per-source token bucket for
// new INVITEs, a list of scanner User-Agents, and rate-limited logging of
// security events. It knows nothing of SIP messages; internal/pbx feeds it
// and internal/sipserver asks it, before parsing, whether to drop a packet.
//
// Configuration is the optional [security] section of gopbx.conf in the
// configuration directory (see Load); without it the defaults apply:
//
//	[security]
//	ban_after_failures = 5   ; failed authentications from one IP ... (0: never ban)
//	ban_window = 60          ; ... within this many seconds ...
//	ban_time = 600           ; ... ban the IP for this many seconds
//	invite_rate = 50         ; new INVITEs per second per source IP (0: no limit)
//	ban_ignore = 10.0.0.0/8, 192.168.1.7   ; never banned nor rate limited
//	drop_scanners = yes      ; drop friendly-scanner, sipvicious, ... silently
//	overload_wait = 1000     ; ms a new INVITE may wait inside gopbx before it gets 503 (0: never)
//
// Loopback is not exempt by default: the integration tests ban 127.0.x.y.
package security
