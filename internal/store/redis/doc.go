// Package redis holds drawbridge's Hot state in Redis, so that every
// replica of the gateway sees one replay guard. It is the only package
// that imports the Redis client (go-redis), through its UniversalClient:
// a single node, Sentinel and Redis Cluster work alike, chosen by the URL
// (see ParseURL).
//
// # Why these commands
//
// Claim is SET key 1 NX PX ttl: one command that creates the key only if
// it is absent and gives it its expiry in the same step. Of any number of
// concurrent callers on any number of replicas, Redis executes one SET
// first and the others find the key: exactly one true. A GET-then-SET or a
// SETNX-then-PEXPIRE pair would let two callers both see "absent", or
// leave a key without expiry if the replica died between the two.
//
// Take is GETDEL (Redis 6.2+): the value is read and deleted in one
// command, so of concurrent callers exactly one receives it. Open checks
// every server's version and refuses older ones rather than fall back to
// a non-atomic GET and DEL.
//
// The client does not retry failed commands (unless the URL asks for
// max_retries): a retried SET NX whose first reply was lost would find
// the caller's own claim and call it a replay. An error is returned at
// once, and the caller fails closed.
//
// Put is SET key value PX ttl. Ttls are sent in milliseconds, rounded up,
// so that a claim never lapses before the ttl it was asked for.
//
// # Keys and Redis Cluster
//
// Every key is Options.Prefix followed by the caller's key. Redis Cluster
// places a key in a slot by the CRC16 of its hash tag, the text between
// the first '{' and the next '}', or of the whole key when there is no
// such text. Single-key commands work wherever their key lands, but a
// client-chosen value inside a key (a DPoP jti) could carry "{x}" and pin
// every key to one node; so a key containing '{' is stored as
// prefix + "{}" + key, and an empty tag makes Cluster hash the whole key.
//
// Multi-key commands and Lua scripts (the rate limiter's) must touch keys
// of one slot, or Cluster refuses them with CROSSSLOT. Build such keys
// with Hot.Keys or HashTagged, which put one escaped tag in every key of
// the group:
//
//	keys := h.Keys("ip:203.0.113.7", "tokens", "stamp")
//	// drawbridge:{ip:203.0.113.7}tokens, drawbridge:{ip:203.0.113.7}stamp
//
// # Errors
//
// Engine failures and cancelled contexts wrap store.ErrUnavailable; the
// messages never hold the URL's password.
package redis
