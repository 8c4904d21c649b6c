// Package backend holds the rules every store backend applies the same
// way, so that the conformance suite sees one behaviour: argument checks,
// how times are normalised, how engine errors are wrapped.
package backend

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// CheckKey refuses an empty key or one longer than store.MaxKeyLen. The
// message never quotes the key: keys can hold client-chosen values.
func CheckKey(what, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty %s", store.ErrInvalid, what)
	case len(key) > store.MaxKeyLen:
		return fmt.Errorf("%w: %s is %d bytes, more than %d", store.ErrInvalid, what, len(key), store.MaxKeyLen)
	}
	return nil
}

// CheckTTL refuses a ttl below one millisecond: Redis counts in
// milliseconds, and a zero ttl would mean "forever" to some engines.
func CheckTTL(ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("%w: ttl %v is below 1ms", store.ErrInvalid, ttl)
	}
	return nil
}

// CheckCounter refuses counters that a signed 64-bit column cannot hold.
func CheckCounter(n uint64) error {
	if n > math.MaxInt64 {
		return fmt.Errorf("%w: counter %d exceeds %d", store.ErrInvalid, n, int64(math.MaxInt64))
	}
	return nil
}

// CheckDevice checks what RegisterDevice documents.
func CheckDevice(d store.Device) error {
	if err := CheckID(d.App, d.KeyID); err != nil {
		return err
	}
	if !d.RevokedAt.IsZero() {
		return fmt.Errorf("%w: a new device cannot be revoked already (use RevokeDevice)", store.ErrInvalid)
	}
	return CheckCounter(d.Counter)
}

// CheckName checks a durable identifier (app, key id, version): a Hot
// key that is also valid UTF-8 without NUL, as SQL text columns require.
func CheckName(what, s string) error {
	if err := CheckKey(what, s); err != nil {
		return err
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s is not UTF-8 text without NUL", store.ErrInvalid, what)
	}
	return nil
}

// CheckRevocation checks RevokeDevice's arguments: a zero time would
// store "not revoked".
func CheckRevocation(app, keyID string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("%w: zero revocation time", store.ErrInvalid)
	}
	return CheckID(app, keyID)
}

// CheckID checks an (app, key id) pair.
func CheckID(app, keyID string) error {
	if err := CheckName("app", app); err != nil {
		return err
	}
	return CheckName("key id", keyID)
}

// Time is t as every backend returns it: UTC, truncated to the
// microsecond (PostgreSQL's precision), without a monotonic reading. The
// zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Unavailable wraps an engine error so that errors.Is(err,
// store.ErrUnavailable) holds, and a context error stays recognisable:
// "redis: claim: store: unavailable: context canceled". A nil err stays
// nil.
func Unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
}

// Done returns ctx's error wrapped as unavailable, or nil while ctx is
// live. Backends call it first, so that a cancelled request never reaches
// the engine (some clients only honour deadlines, not cancellation).
func Done(op string, ctx context.Context) error {
	return Unavailable(op, ctx.Err())
}

// CheckAPIKey checks what CreateAPIKey and RotateAPIKey document.
func CheckAPIKey(k store.APIKey) error {
	if err := CheckName("api key id", k.ID); err != nil {
		return err
	}
	if len(k.Hash) == 0 || len(k.Hash) > 64 {
		return fmt.Errorf("%w: an api key hash has 1 to 64 bytes, not %d", store.ErrInvalid, len(k.Hash))
	}
	if k.Name != "" {
		if err := CheckName("api key name", k.Name); err != nil {
			return err
		}
	}
	for _, s := range k.Scopes {
		if err := CheckName("api key scope", s); err != nil {
			return err
		}
		if strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%w: an api key scope has no spaces", store.ErrInvalid)
		}
	}
	if !k.RevokedAt.IsZero() {
		return fmt.Errorf("%w: a new api key cannot be revoked already (use RevokeAPIKey)", store.ErrInvalid)
	}
	return nil
}

// CloneAPIKey copies k so that neither the caller nor the store sees the
// other's later changes, and normalises its times and empty scopes (nil)
// as every backend returns them.
func CloneAPIKey(k store.APIKey) store.APIKey {
	k.Hash = append([]byte(nil), k.Hash...)
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	} else {
		k.Scopes = append([]string(nil), k.Scopes...)
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = Time(k.CreatedAt), Time(k.ExpiresAt), Time(k.RevokedAt)
	return k
}

// SortAPIKeys orders secrets as APIKey and ListAPIKeys return them: by
// ID, then CreatedAt, then Hash.
func SortAPIKeys(ks []store.APIKey) {
	slices.SortFunc(ks, func(a, b store.APIKey) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.Hash, b.Hash)
	})
}
