// Package store defines the state drawbridge keeps between requests, and
// the two kinds of engine that hold it.
//
// Hot state is short-lived and written on the request path: single-use
// markers (attestation challenges, signature nonces, DPoP jti), one-time
// values, rate-limit counters. It lives in memory on a single node and in
// Redis when replicas must agree. Its one primitive that every layer
// reuses is Claim: the replay guard.
//
// # Hot key namespaces
//
// Every single-use value goes through Hot, under its layer's prefix, so
// that no two layers' keys can collide:
//
//   - challenge:<challenge>: an attestation challenge, Put at issue and
//     Taken once at exchange (internal/attest/service).
//   - nonce:httpsig:<len(keyid)>:<keyid>:<nonce>: an RFC 9421 signature
//     nonce, Claimed until the signature expires (internal/httpsig; the
//     gateway hashes keys longer than MaxKeyLen allows).
//   - dpop-jti:<jkt>:<base64url(SHA-256(jti))>: a DPoP proof's jti, per key,
//     Claimed while the proof could be accepted (internal/dpop).
//   - hashed:<base64url(SHA-256(key))>: any of these longer than 256 bytes,
//     as the gateway's replay guard passes them on.
//
// Durable state outlives restarts: the device registry (attested keys and
// their counters), what operators decide at run time (revoked devices,
// blocked app versions, token cut-offs) and API keys. It lives in SQLite
// on a single node and in PostgreSQL when replicas share it.
//
// Backends: memory (Hot, and a Durable for tests and demos), redis
// (Hot), sqlite and postgres (Durable). Every backend passes the one
// conformance suite in package storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors shared by all backends. Backends wrap their engine errors; a
// caller tells "no such record" from "engine unavailable" with errors.Is.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record with that identity already exists.
	ErrExists = errors.New("store: already exists")
	// ErrCounterNotIncreased: an assertion counter was not greater than the
	// stored one (a replayed or cloned assertion).
	ErrCounterNotIncreased = errors.New("store: counter did not increase")
	// ErrUnavailable wraps engine failures (connection refused, timeout,
	// a cancelled context): callers fail closed on it. Context errors are
	// wrapped too, so errors.Is(err, context.Canceled) still holds.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrInvalid: an argument no backend accepts (an empty or over-long
	// key, a ttl below one millisecond, a counter above math.MaxInt64).
	// It is a caller's bug or an attacker's over-long input; callers fail
	// closed on it like on any other error.
	ErrInvalid = errors.New("store: invalid argument")
)

// MaxKeyLen is the longest Hot key, and the longest App or KeyID of a
// Device, in bytes. Layers that build keys from client-chosen values (a
// DPoP jti) hash values that could be longer, so that an attacker cannot
// make the gateway hold megabytes per request.
const MaxKeyLen = 1024

// Hot is short-lived shared state with expiry. Keys are opaque strings
// (any bytes, 1 to MaxKeyLen of them) chosen by the caller, namespaced by
// layer ("challenge:", "nonce:", "jti:"); backends may hash-tag them for
// Redis Cluster. Claim and Put share one key space. Expiry is exact to the
// millisecond or better: a key lives for at least ttl and is gone soon
// after; an expired key is never returned or counted as claimed.
type Hot interface {
	// Claim marks key as used for ttl. It reports true for exactly one
	// caller per key and ttl window, across every node sharing the store:
	// the replay guard. A ttl below one millisecond is an error.
	Claim(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
	// Put stores a copy of value under key for ttl, replacing any previous
	// value. A ttl below one millisecond is an error.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Take returns key's value and deletes it, atomically: of concurrent
	// callers exactly one receives the value. ok is false when the key is
	// missing or expired.
	Take(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Close releases the backend's resources.
	Close() error
}

// Device is one attested app install: the key its platform attested and
// what the gateway learnt about it.
type Device struct {
	// App is the app's id in the config (not the bundle or package name).
	App string
	// KeyID identifies the attested key: for App Attest the key id, for
	// Android the SHA-256 of the attested public key, base64url.
	KeyID string
	// Platform is apple, android, play or dev.
	Platform string
	// PublicKey is the attested public key, PKIX DER; assertions are
	// verified with it.
	PublicKey []byte
	// Counter is the last assertion counter seen (App Attest). At most
	// math.MaxInt64: SQL engines store signed 64-bit integers.
	Counter uint64
	// BoundKey is the RFC 7638 thumbprint of the request-signing key the
	// attestation bound.
	BoundKey string
	// Facts are what the verifier found (environment, version, integrity
	// levels), as JSON.
	Facts []byte
	// FirstSeen and LastSeen are when the device was registered and last
	// asserted. Backends return every time in UTC, truncated to the
	// microsecond (PostgreSQL's precision); a zero time stays zero.
	FirstSeen, LastSeen time.Time
	// RevokedAt is when an operator revoked the device; zero if it is not
	// revoked.
	RevokedAt time.Time
}

// Devices is the device registry.
type Devices interface {
	// RegisterDevice records a newly attested device. ErrExists if the
	// (App, KeyID) pair is known. ErrInvalid if App or KeyID is empty,
	// longer than MaxKeyLen or not UTF-8 text without NUL, if Counter
	// exceeds math.MaxInt64, or if RevokedAt is set (revoke with
	// RevokeDevice, which moves the Generation).
	RegisterDevice(ctx context.Context, d Device) error
	// Device returns a device, or ErrNotFound.
	Device(ctx context.Context, app, keyID string) (Device, error)
	// AdvanceCounter stores counter and LastSeen only if counter is
	// strictly greater than the stored counter, compared and stored in one
	// atomic step: of concurrent calls with one value, exactly one
	// succeeds. Otherwise ErrCounterNotIncreased (ErrNotFound for an
	// unknown device, ErrInvalid for a counter above math.MaxInt64).
	// It does not look at revocation: callers check the Snapshot.
	AdvanceCounter(ctx context.Context, app, keyID string, counter uint64, seen time.Time) error
	// RevokeDevice marks a device revoked at the given time (not zero:
	// ErrInvalid). ErrNotFound for an unknown device. Revoking a revoked
	// device again keeps the first time. A revoked device stays in the
	// registry, so that its key cannot be registered anew.
	RevokeDevice(ctx context.Context, app, keyID string, at time.Time) error
}

// Controls are the decisions operators make at run time. They apply on
// every node; each node caches a Snapshot and refreshes it when
// Generation changes.
type Controls interface {
	// SetVersionBlocked blocks or unblocks an app version. App and version
	// are 1 to MaxKeyLen bytes of UTF-8 text without NUL.
	SetVersionBlocked(ctx context.Context, app, version string, blocked bool) error
	// SetTokenCutoff refuses the app's attestation tokens issued before t
	// (a zero t removes the cut-off).
	SetTokenCutoff(ctx context.Context, app string, t time.Time) error
	// Generation increases with every change to controls, revocations or
	// API keys (every successful SetVersionBlocked, SetTokenCutoff,
	// RevokeDevice, CreateAPIKey, RotateAPIKey and RevokeAPIKey call, even
	// one that changes nothing); polling it is cheap. A fresh store is at
	// generation 0.
	Generation(ctx context.Context) (uint64, error)
	// Snapshot returns all controls and revoked devices, read at one
	// generation: never a mix of two.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Snapshot is the run-time control state at one generation. Its maps are
// never nil.
type Snapshot struct {
	Generation uint64
	// BlockedVersions maps app to its blocked versions, sorted.
	BlockedVersions map[string][]string
	// TokenCutoffs maps app to the time before which its tokens are refused.
	TokenCutoffs map[string]time.Time
	// Revoked holds revoked devices as app + "/" + key id.
	Revoked map[string]time.Time
}

// APIKey is one secret of an API key. A key is known by its ID; while it
// is being rotated it has two secrets, the old one expiring. The secret
// itself is never stored, only its keyed hash: a copy of the database does
// not give anyone a key.
type APIKey struct {
	// ID identifies the key in logs, to the upstream and to rate limits;
	// it stays the same across rotations. Like an App: 1 to MaxKeyLen
	// bytes of UTF-8 text without NUL.
	ID string
	// Hash is the keyed hash of the secret (HMAC-SHA-256 under the
	// deployment's pepper): 1 to 64 bytes.
	Hash []byte
	// Name says what the key is for, for operators. May be empty.
	Name string
	// Scopes are what the key may do; each is text without spaces.
	Scopes []string
	// CreatedAt is when the secret was made; ExpiresAt when it stops
	// working (zero: never); RevokedAt when an operator revoked it (zero:
	// not revoked). Times are returned as Device times are.
	CreatedAt, ExpiresAt, RevokedAt time.Time
}

// APIKeys holds API keys. Every successful change moves
// Controls.Generation, so that a node caching keys sees a revocation
// within one poll.
type APIKeys interface {
	// CreateAPIKey stores a key's first secret. ErrExists if the ID has a
	// secret already (rotate it instead); ErrInvalid if the ID, Hash, Name
	// or a scope breaks the rules of APIKey, or RevokedAt is set.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// RotateAPIKey adds a secret to an existing key and, in the same
	// atomic step, makes every other secret of the key that is not revoked
	// expire at oldUntil (or earlier, if it already did). ErrNotFound if
	// the ID has no secret; ErrExists if it has this Hash; ErrInvalid as
	// CreateAPIKey, or for a zero oldUntil.
	RotateAPIKey(ctx context.Context, k APIKey, oldUntil time.Time) error
	// APIKey returns the secrets of a key, oldest first (by CreatedAt,
	// then Hash), or ErrNotFound.
	APIKey(ctx context.Context, id string) ([]APIKey, error)
	// ListAPIKeys returns every secret of every key, by ID, then as
	// APIKey orders them.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes every secret of a key at the given time (not
	// zero: ErrInvalid). Revoking again keeps the first time. ErrNotFound
	// if the ID has no secret.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
}

// Durable is the durable state of one deployment.
type Durable interface {
	Devices
	Controls
	APIKeys
	// Close releases the backend's resources.
	Close() error
}
