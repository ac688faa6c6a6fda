package location

import (
	"context"
	"errors"
	"time"
)

// ErrOutOfOrder reports a write that does not supersede the live binding it
// would replace: same Call-ID and a CSeq not higher than the stored one (RFC
// 3261 §10.3 step 7). The registrar answers such a REGISTER with an error
// and leaves the binding as it was.
var ErrOutOfOrder = errors.New("location: out-of-order update")

// Store is the location service the registrar writes and the channel drivers
// read. Implementations are safe for concurrent use. A write returns only
// once its change is as durable as the implementation promises (Memory: in
// memory; sqlite: committed to the WAL) and visible to Lookup; a write that
// fails changes nothing (Expire excepted, see there).
type Store interface {
	// Put inserts b or replaces the binding with the same AOR and Contact.
	// When that binding is live and b does not supersede it (see
	// Binding.Supersedes) Put returns an error wrapping ErrOutOfOrder.
	// A b whose Expires is not after now is stored but never shown by
	// Lookup; use Delete to remove a contact.
	Put(ctx context.Context, b Binding) error

	// Delete removes the binding of aor with that exact contact. Deleting
	// a binding that does not exist is not an error.
	Delete(ctx context.Context, aor, contact string) error

	// DeleteAOR removes every binding of aor, live or expired.
	DeleteAOR(ctx context.Context, aor string) error

	// Lookup returns aor's live bindings in Compare order: highest q first,
	// then the most recently updated. An unknown AOR has no bindings and no
	// error. The slice is the caller's.
	Lookup(ctx context.Context, aor string) ([]Binding, error)

	// All returns every stored binding, including expired ones Expire has
	// not removed yet, sorted by AOR and then in Compare order.
	All(ctx context.Context) ([]Binding, error)

	// Expire removes every binding whose Expires is not after now and
	// returns them, so each expiry is reported once. If it fails part way
	// it returns the bindings it did remove along with the error.
	Expire(ctx context.Context, now time.Time) ([]Binding, error)

	// Apply runs fn with aor's live bindings (in Compare order, a copy the
	// caller owns) while holding aor's write lock, then commits fn's result
	// as one atomic change: del lists contacts to remove, put lists bindings
	// to insert or replace. It returns aor's live bindings after the commit.
	//
	// This is how the registrar applies a whole REGISTER (several contacts,
	// expires=0 removals, remove_existing, max_contacts) without racing
	// another REGISTER for the same AOR. If fn returns an error, Apply
	// returns it unchanged and commits nothing. Each put must have an empty
	// AOR (Apply sets it) or aor, at most one put per contact, and must
	// supersede the live binding it replaces, else Apply fails with nothing
	// committed (ErrOutOfOrder for the latter). A contact listed in both del
	// and put ends up put. fn must not call back into the Store.
	Apply(ctx context.Context, aor string, fn ApplyFunc) ([]Binding, error)
}

// ApplyFunc computes one atomic change to an AOR from its current live
// bindings; see Store.Apply.
type ApplyFunc func(current []Binding) (put []Binding, del []string, err error)

// Change is one update to the bindings of one AOR, as Memory hands it to
// its Backend: the contacts in Delete are removed, then the bindings in Put
// are inserted or replaced. Every binding in Put has AOR set.
type Change struct {
	AOR    string
	Put    []Binding
	Delete []string
	// Refresh are bindings the backend holds already that differ from the
	// stored row only in CallID, CSeq, Expires and Updated (see RefreshOf):
	// what a phone's periodic re-REGISTER changes (the Call-ID too, for
	// phones that start a new one). A backend may write just those columns.
	Refresh []Binding
}

// RefreshOf reports whether b differs from old only in CallID, CSeq,
// Expires and Updated.
func RefreshOf(b, old Binding) bool {
	b.CallID, b.CSeq, b.Expires, b.Updated = old.CallID, old.CSeq, old.Expires, old.Updated
	return b == old
}

// Backend is the durable copy behind a Memory used as a front cache (see
// WithBackend). Memory calls it with the write locks of the AORs concerned
// held, and publishes the changes to readers only after Write returned nil,
// so the durable copy and memory hold the same bindings. A backend may
// defer a Refresh a little (returning nil at once) while the stored
// binding stays live; Put and Delete it must make durable before
// returning. Implementations must not call back
// into the Memory.
type Backend interface {
	// Write makes changes durable as one transaction: it applies all of
	// them and returns nil, or applies none and returns an error. It must
	// not return an error for changes that may have been applied (for
	// instance because ctx ended while it waited for a commit).
	Write(ctx context.Context, changes ...Change) error
}
