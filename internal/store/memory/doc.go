// Package memory holds drawbridge's state in the process: a Hot for a
// single node, and a Durable for tests and ephemeral demos (it forgets
// everything at exit).
//
// # Hot
//
// Keys live in shards, each a map behind its own mutex, so that requests
// on different keys rarely wait for each other. Claim and Take hold the
// key's shard lock across the read and the write: that is what makes them
// atomic, the property a replay guard rests on.
//
// Expiry is exact and lazy: an entry whose deadline has passed is treated
// as absent the moment it is read, to the nanosecond of the injected
// clock. Memory stays bounded by a sweeper that removes expired entries
// every SweepInterval, so a key costs memory for at most its ttl plus one
// interval. MaxKeys caps the total: past it Claim and Put fail (closed)
// rather than evict, because evicting a claim would let its replay
// through.
package memory
