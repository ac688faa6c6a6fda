// Package location is the registrar's location service: for each address of
// record (AOR) it keeps the contacts phones registered with REGISTER, until
// they expire or are removed.
//
// A [Binding] is one contact of one AOR, keyed by the pair (AOR, Contact).
// The [Store] interface is what the registrar writes through and what the
// channel drivers read when they dial an AOR. [Memory] implements it in
// memory; internal/storage/sqlite implements it durably, using a Memory as its
// read copy through the [Backend] hook, and internal/storage/storagetest holds
// the conformance suite every implementation must pass.
//
// # Contract
//
// A binding is live while now is before its Expires. Lookup and Apply only
// ever show live bindings; expired ones stay stored (visible to All) until
// Expire removes and returns them, so the caller can report each expiry once.
//
// Writes for one AOR are serialised: Put, Delete, DeleteAOR and Apply on the
// same AOR never interleave, and Apply's read-modify-write sees the state its
// writes replace. Different AORs proceed in parallel.
//
// A write that replaces an existing live binding must supersede it as RFC 3261
// §10.3 step 7 requires (a different Call-ID, or the same Call-ID with a higher
// CSeq); otherwise the write fails with [ErrOutOfOrder] and nothing changes.
//
// Contacts are compared byte for byte. The registrar decides which string is
// the key (for instance the Contact URI as the phone sent it, or a normalised
// form when it needs RFC 3261 §19.1.4 equivalence), and it handles RFC 5626
// instance-id/reg-id replacement by deleting the old contact in the same Apply.
package location
