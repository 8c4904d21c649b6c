package apikey

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// Reason codes of refused keys.
const (
	// ReasonInvalid: not a credential, an unknown id, or a wrong secret.
	ReasonInvalid = "apikey.invalid"
	// ReasonExpired: the secret's expiry has passed (a rotated-out
	// secret, or a key made to expire).
	ReasonExpired = "apikey.expired"
	// ReasonRevoked: an operator revoked the key.
	ReasonRevoked = "apikey.revoked"
	// ReasonUnavailable: the key store failed; the verifier fails closed.
	ReasonUnavailable = "apikey.unavailable"
)

// Reasons lists the verifier's reason codes.
var Reasons = []string{ReasonInvalid, ReasonExpired, ReasonRevoked, ReasonUnavailable}

// Error is a refused key. Its message never holds the credential.
type Error struct {
	Code string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	msg := "apikey: " + e.Msg
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + " (" + e.Code + ")"
}

// Reason returns the stable reason code.
func (e *Error) Reason() string { return e.Code }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Store is what a Verifier reads keys from.
type Store interface {
	APIKey(ctx context.Context, id string) ([]store.APIKey, error)
}

// Defaults of a Verifier.
const (
	DefaultTTL        = 30 * time.Second
	DefaultMaxEntries = 10000
)

// Verifier checks credentials. Configure its fields, then use it from any
// number of goroutines.
type Verifier struct {
	// Keys is the key store. Required.
	Keys Store
	// Hasher hashes secrets. Required.
	Hasher *Hasher
	// Generation returns the store's generation as last polled
	// (service.Controls polls it); an entry read at another generation is
	// read again. If nil, entries live for TTL, and a revocation takes as
	// long to apply.
	Generation func() uint64
	// TTL bounds how long an id's secrets are served from memory. If
	// zero, DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds the cache; past it, it is emptied. If zero,
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the clock. If nil, time.Now.
	Now func() time.Time

	mu      sync.RWMutex
	entries map[string]*entry
}

// entry is an id's secrets as read at one generation; nil keys means the
// id has none.
type entry struct {
	keys    []store.APIKey
	gen     uint64
	expires time.Time
}

// Verify checks a credential and returns the secret it matched.
func (v *Verifier) Verify(ctx context.Context, credential string) (store.APIKey, error) {
	c, err := Parse(credential)
	if err != nil {
		return store.APIKey{}, &Error{Code: ReasonInvalid, Msg: "malformed key"}
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	keys, err := v.secrets(ctx, c.ID, now)
	if err != nil {
		return store.APIKey{}, &Error{Code: ReasonUnavailable, Msg: "reading the key", Err: err}
	}
	h := v.Hasher.Hash(c.Secret)
	for _, k := range keys {
		if !hmac.Equal(h, k.Hash) {
			continue
		}
		switch {
		case !k.RevokedAt.IsZero():
			return k, &Error{Code: ReasonRevoked, Msg: fmt.Sprintf("key %s is revoked", k.ID)}
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			return k, &Error{Code: ReasonExpired, Msg: fmt.Sprintf("key %s expired", k.ID)}
		}
		return k, nil
	}
	return store.APIKey{}, &Error{Code: ReasonInvalid, Msg: "unknown key or wrong secret"}
}

// secrets returns the id's secrets, from the cache when they were read at
// the current generation within the TTL.
func (v *Verifier) secrets(ctx context.Context, id string, now time.Time) ([]store.APIKey, error) {
	var gen uint64
	if v.Generation != nil {
		gen = v.Generation()
	}
	v.mu.RLock()
	e := v.entries[id]
	v.mu.RUnlock()
	if e != nil && e.gen == gen && now.Before(e.expires) {
		return e.keys, nil
	}
	keys, err := v.Keys.APIKey(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ttl := v.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	max := v.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	v.mu.Lock()
	if v.entries == nil || len(v.entries) >= max {
		v.entries = make(map[string]*entry)
	}
	// Tagged with the generation seen before the read: if it moved while
	// reading, the next request reads again.
	v.entries[id] = &entry{keys: keys, gen: gen, expires: now.Add(ttl)}
	v.mu.Unlock()
	return keys, nil
}
