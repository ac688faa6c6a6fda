// Package cdr writes call detail records the way Asterisk does, so billing
// scripts that read Asterisk's Master.csv or its CDR table keep working.
//
// A Collector subscribes to the channel registry and builds one Record per
// call, owned by the inbound (originating) channel, when that channel hangs
// up; dialled channels get no record of their own, as with Asterisk's
// defaults for a plain Dial. Records go to Backends: CSV writes
// cdr-csv/Master.csv (and <accountcode>.csv) exactly as cdr_csv, and
// StoreBackend writes to a Store such as storage/sqlite's CDR table.
// cdr.conf sets both the engine ([general]) and the csv backend ([csv]).
//
// Wiring, in main:
//
//	cfg, diags, err := cdr.Load(filepath.Join(confDir, "cdr.conf"))
//	// log diags, fail on err
//	opts := []cdr.Option{cdr.WithLogger(log)}
//	if cfg.CSV != nil {
//		csv, err := cdr.NewCSV(filepath.Join(dataDir, cdr.CSVDirName), *cfg.CSV, cfg.AccountLogs)
//		// fail on err
//		opts = append(opts, cdr.WithBackend("csv", csv))
//	}
//	opts = append(opts, cdr.WithBackend("sqlite", cdr.StoreBackend(db.CDRs())))
//	col := cdr.New(reg, cfg, opts...) // before any channel exists
//	defer col.Shutdown(ctx)           // after the calls are drained, before db.Close
//
// Each channel Dial creates must reach col.DialBegin(caller, peer)
// (Asterisk's dial begin message): give Dial col.WrapRequester(reg) as its
// Dialer. An unanswered call's dstchannel comes from there, and without a
// dstchannel cdr.conf's unanswered=no drops its record.
//
// # Differences from Asterisk
//
//   - One record per call (as with ignoredialchanges=yes): Asterisk starts
//     a second record when the dialplan goes on after an unanswered Dial
//     (voicemail, say); gopbx keeps one, ANSWERED if the channel was ever
//     answered.
//   - Records end at hangup, before the h extension (endbeforehexten=yes,
//     Asterisk's default); endbeforehexten=no is not supported.
//   - CDR(userfield) and CDR(amaflags) are read from the channel variables
//     CDR_USERFIELD and CDR_AMAFLAGS until the dialplan has CDR().
//   - DIALSTATUS decides an unanswered call's disposition even when no
//     dialled channel is known (Asterisk reads the dial end message, which
//     needs one); with unanswered=no such records are dropped anyway.
//   - Originated calls (outbound channels nobody dialled) get no record.
package cdr
