// Package storagetest holds the conformance suites every storage
// implementation runs from its own tests, so the in-memory, SQLite and
// PostgreSQL stores keep one contract:
//
//	func TestLocationStore(t *testing.T) {
//		storagetest.TestLocationStore(t, func(t *testing.T) location.Store {
//			return newStore(t) // fresh and empty; closed by t.Cleanup
//		})
//	}
//
// Durable stores also run TestLocationStoreReopen. Run the suites with -race:
// they hammer one AOR from many goroutines to check that writes are atomic.
package storagetest
