// Package storage is the home of gopbx's persistent data. It holds no code
// of its own, only this map of where things live:
//
//   - The interfaces are defined per domain by the package that consumes
//     them, as small as that consumer needs. The location service's
//     [location.Store] lives in internal/location because the registrar and
//     the channel drivers use it; users, CDRs and mailboxes will get theirs
//     the same way (or here, when several packages share one).
//   - storage/sqlite implements them on an embedded SQLite database (pure
//     Go, WAL). One *sqlite.DB owns the file, its schema migrations and one
//     group-committing writer, and hands out one store per domain, e.g.
//     DB.Locations.
//   - storage/postgres will implement the same interfaces for clusters.
//   - storage/storagetest holds one conformance suite per interface; every
//     implementation, including the in-memory ones, runs it from its tests.
//
// [location.Store]: github.com/gopbx/gopbx/internal/location.Store
package storage
