// Package lazylog gives per-request and per-call loggers whose attributes
// cost nothing until a record is actually logged.
//
// slog's Logger.With hands the attributes to the handler at once, and the
// text and JSON handlers format them there and then: under REGISTER load
// that pre-formatting of call_id/method/src was a tenth of gopbx's
// allocations, for loggers that almost never log (bench, issue 7).
// With keeps the attributes aside and adds them only to records that pass
// Enabled.
package lazylog
