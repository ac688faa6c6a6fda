// Package sqlite stores gopbx's data in an embedded SQLite database through
// modernc.org/sqlite (pure Go, no cgo).
//
// Open opens (or creates) the file, switches it to WAL with
// synchronous=NORMAL and a busy timeout, and brings its schema up to date
// with numbered migrations recorded in the schema_version table. Later
// domains (users, CDRs, voicemail) append migrations; existing ones are
// never edited.
//
// # Writes: group commit
//
// All writes go through one writer goroutine that owns one connection.
// Callers enqueue their change and block; the writer takes everything
// queued (up to the batch limit), commits it as one transaction and then
// wakes every caller with its own result. A caller returns only once its
// change is committed to the WAL, yet a thousand concurrent REGISTER
// refreshes cost a handful of commits instead of a thousand. If a batch
// fails, the writer retries its changes one transaction each, so a bad
// change fails alone. Once enqueued, a change is waited for even if the
// caller's context ends, so a caller never reports failure for a change
// that was committed.
//
// With synchronous=NORMAL a commit is written to the WAL but not fsynced:
// it survives the process crashing, and the last commits before a power
// loss or kernel crash may be lost (SQLite's WAL keeps the file
// consistent either way). WithSynchronous("FULL") fsyncs every batch.
//
// SQLite's automatic checkpoint is off: it would run inside the writer's
// COMMIT and stall every queued write behind its fsyncs. A background
// goroutine checkpoints instead, on its own connection, every second and
// after every few hundred commits. New databases use 1 KiB pages, because
// a refresh rewrites one small row but the WAL and the checkpoint copy
// whole pages.
//
// # Reads: an in-memory index
//
// DB.Locations is a location.Memory loaded from the location table at Open
// and written through to SQLite (location.WithBackend), so Lookup never
// touches the database: the table is the durable copy, memory the read
// copy. Memory publishes a change only after the writer committed it, and
// holds the AOR's write lock meanwhile, so the two always hold the same
// bindings; only a refresh the stored row does not need yet (it has at
// least half of the new period left) stays in memory for up to a minute,
// until the flush loop or Close writes it (locationBackend,
// WithEveryRefresh, WithRefreshFlush).
// This assumes one process owns the file; other processes writing the
// location table are not seen until the next Open.
package sqlite
