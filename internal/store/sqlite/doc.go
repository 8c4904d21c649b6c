// Package sqlite holds drawbridge's Durable state in a SQLite file, for a
// single node. It uses modernc.org/sqlite, a pure-Go SQLite: no cgo, one
// static binary.
//
// # Concurrency
//
// The database runs in WAL mode, so reads never wait for the writer. All
// writes go through one connection (a pool of one, each transaction
// BEGIN IMMEDIATE), so this process never collides with itself on
// SQLite's single write lock; busy_timeout makes another process's
// writer wait its turn rather than fail. synchronous stays FULL: a
// committed counter survives a power cut, so an assertion accepted before
// it cannot be replayed after.
//
// # Why AdvanceCounter is one statement
//
// AdvanceCounter is a single UPDATE ... WHERE counter < ?, and success is
// "one row changed". Reading the counter, comparing in Go and writing it
// back would let two concurrent assertions with one counter value both
// read the old counter and both succeed: the cloned-key replay that App
// Attest's counter exists to catch. The conditional UPDATE compares and
// stores under the write lock, in one step. Only when no row changed does
// a second query tell an unknown device from a counter that did not
// increase.
//
// # Schema
//
// Migrations are embedded SQL files (migrations/0001_*.sql ...), applied
// at Open in one IMMEDIATE transaction and recorded in schema_migrations.
// Re-opening applies nothing; a file written by a newer drawbridge (a
// version this build does not know) is refused rather than misread.
package sqlite
