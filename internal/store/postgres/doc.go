// Package postgres holds drawbridge's Durable state in PostgreSQL, shared
// by every replica of the gateway. It uses pgx through a pgxpool.Pool.
//
// Its tables live in the schema drawbridge, created at Open, so that the
// gateway can share a database with other programs (whose own
// schema_migrations table, say, it never touches).
//
// # Why AdvanceCounter is one conditional UPDATE
//
// AdvanceCounter is UPDATE ... SET counter = $3 WHERE app = $1 AND
// key_id = $2 AND counter < $3, and success is "one row updated". Under
// READ COMMITTED a second UPDATE of the row waits for the first's row
// lock, then re-checks its WHERE clause against the committed row: with
// the same counter value it no longer matches. So of concurrent
// assertions with one value, on any number of replicas, exactly one
// succeeds. A SELECT, a comparison in Go and an UPDATE would let both
// read the old counter and both succeed: the cloned-key replay the
// counter exists to catch. Only when no row changed does a second query
// tell an unknown device from a counter that did not increase.
//
// # Generation
//
// Every change to controls or revocations runs in one transaction with
// UPDATE control SET generation = generation + 1, so a node that reads a
// new generation reads the change with it; the row lock orders
// concurrent changes. Snapshot reads everything in one REPEATABLE READ
// transaction: one generation, never a mix.
//
// # Schema migrations
//
// Migrations are embedded SQL files (migrations/0001_*.sql ...), applied
// at Open in one transaction and recorded in drawbridge.schema_migrations.
// The transaction first takes pg_advisory_xact_lock, so that replicas
// starting together migrate one after the other: the second finds the
// work done. A database at a version this build does not know (written by
// a newer drawbridge) is refused rather than misread.
//
// # DSN
//
// Open takes a libpq DSN, as a URL or key=value pairs:
//
//	postgres://user:password@host:5432/dbname?sslmode=verify-full&pool_max_conns=20
//
// pgx reads the pool settings (pool_max_conns, pool_min_conns,
// pool_max_conn_lifetime, ...) from it too. Behind PgBouncer in
// transaction mode add default_query_exec_mode=exec (no named prepared
// statements). Error messages never quote the DSN.
package postgres
