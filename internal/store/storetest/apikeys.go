package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// sampleKey is a key's secret as the gateway stores it: a 32-byte hash.
func sampleKey(id, secret string, created time.Time) store.APIKey {
	h := sha256.Sum256([]byte(secret))
	return store.APIKey{ID: id, Hash: h[:], Name: "partner " + id, Scopes: []string{"orders:read", "orders:write"}, CreatedAt: created}
}

// checkKeys compares stored secrets with what was stored, times to the
// millisecond in UTC.
func checkKeys(t *testing.T, got, want []store.APIKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d secrets, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		for _, f := range []struct {
			name      string
			got, want time.Time
		}{{"CreatedAt", g.CreatedAt, w.CreatedAt}, {"ExpiresAt", g.ExpiresAt, w.ExpiresAt}, {"RevokedAt", g.RevokedAt, w.RevokedAt}} {
			if !sameTime(f.got, f.want) {
				t.Errorf("secret %d %s: got %v, want %v to the millisecond, in UTC", i, f.name, f.got, f.want.UTC())
			}
		}
		g.CreatedAt, g.ExpiresAt, g.RevokedAt = time.Time{}, time.Time{}, time.Time{}
		w.CreatedAt, w.ExpiresAt, w.RevokedAt = time.Time{}, time.Time{}, time.Time{}
		if diff := cmp.Diff(w, g, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("secret %d (-want +got):\n%s", i, diff)
		}
	}
}

func keysCreate(t *testing.T, d store.Durable) {
	ctx := context.Background()
	t0 := time.Date(2025, 5, 1, 9, 0, 0, 123456000, time.UTC)
	g0 := generation(t, d)
	k := sampleKey("acme", "s1", t0)
	k.ExpiresAt = t0.Add(90 * 24 * time.Hour)
	must(t, d.CreateAPIKey(ctx, k))
	if g := generation(t, d); g <= g0 {
		t.Fatalf("generation after CreateAPIKey: %d, want more than %d", g, g0)
	}
	got, err := d.APIKey(ctx, "acme")
	must(t, err)
	checkKeys(t, got, []store.APIKey{k})

	// A key is created once; a second secret comes by rotation.
	g1 := generation(t, d)
	if err := d.CreateAPIKey(ctx, sampleKey("acme", "s2", t0)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateAPIKey of a known id: got %v, want ErrExists", err)
	}
	if g := generation(t, d); g != g1 {
		t.Fatalf("a refused CreateAPIKey moved the generation from %d to %d", g1, g)
	}
	noScopes := sampleKey("beta", "s", t0.Add(time.Hour))
	noScopes.Scopes, noScopes.Name = nil, ""
	must(t, d.CreateAPIKey(ctx, noScopes))
	for _, id := range []string{"nope", "ACME", "acme "} {
		if _, err := d.APIKey(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("APIKey(%q): got %v, want ErrNotFound", id, err)
		}
	}
	all, err := d.ListAPIKeys(ctx)
	must(t, err)
	checkKeys(t, all, []store.APIKey{k, noScopes})

	// The store keeps copies.
	k.Hash[0] ^= 0xff
	k.Scopes[0] = "admin"
	got, err = d.APIKey(ctx, "acme")
	must(t, err)
	if got[0].Hash[0] == k.Hash[0] || got[0].Scopes[0] != "orders:read" {
		t.Fatal("the store kept a reference to the caller's key")
	}
	got[0].Scopes[1] = "mutated"
	again, err := d.APIKey(ctx, "acme")
	must(t, err)
	if again[0].Scopes[1] != "orders:write" {
		t.Fatal("the store returned a reference to its own key")
	}
}

func keysInvalid(t *testing.T, d store.Durable) {
	ctx := context.Background()
	now := time.Now()
	mk := func(f func(*store.APIKey)) store.APIKey {
		k := sampleKey("id", "s", now)
		f(&k)
		return k
	}
	for name, k := range map[string]store.APIKey{
		"empty id":          mk(func(k *store.APIKey) { k.ID = "" }),
		"long id":           mk(func(k *store.APIKey) { k.ID = strings.Repeat("i", store.MaxKeyLen+1) }),
		"id not UTF-8":      mk(func(k *store.APIKey) { k.ID = "i\xff" }),
		"empty hash":        mk(func(k *store.APIKey) { k.Hash = nil }),
		"hash of 65 bytes":  mk(func(k *store.APIKey) { k.Hash = make([]byte, 65) }),
		"NUL in name":       mk(func(k *store.APIKey) { k.Name = "a\x00b" }),
		"scope with spaces": mk(func(k *store.APIKey) { k.Scopes = []string{"a b"} }),
		"empty scope":       mk(func(k *store.APIKey) { k.Scopes = []string{""} }),
		"already revoked":   mk(func(k *store.APIKey) { k.RevokedAt = now }),
	} {
		if err := d.CreateAPIKey(ctx, k); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateAPIKey with %s: got %v, want ErrInvalid", name, err)
		}
		if err := d.RotateAPIKey(ctx, k, now); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("RotateAPIKey with %s: got %v, want ErrInvalid", name, err)
		}
	}
	must(t, d.CreateAPIKey(ctx, sampleKey("id", "s", now)))
	if err := d.RotateAPIKey(ctx, sampleKey("id", "s2", now), time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("RotateAPIKey with a zero expiry for the old secrets: got %v, want ErrInvalid", err)
	}
	if err := d.RevokeAPIKey(ctx, "id", time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("RevokeAPIKey at the zero time: got %v, want ErrInvalid", err)
	}
	if _, err := d.APIKey(ctx, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("APIKey of an empty id: got %v, want ErrInvalid", err)
	}
}

func keysRotate(t *testing.T, d store.Durable) {
	ctx := context.Background()
	t0 := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	if err := d.RotateAPIKey(ctx, sampleKey("acme", "s2", t0), t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RotateAPIKey of an unknown id: got %v, want ErrNotFound", err)
	}
	first := sampleKey("acme", "s1", t0)
	must(t, d.CreateAPIKey(ctx, first))
	if err := d.RotateAPIKey(ctx, sampleKey("acme", "s1", t0.Add(time.Hour)), t0); !errors.Is(err, store.ErrExists) {
		t.Fatalf("RotateAPIKey to the same secret: got %v, want ErrExists", err)
	}
	g := generation(t, d)
	overlap := t0.Add(25 * time.Hour)
	second := sampleKey("acme", "s2", t0.Add(time.Hour))
	second.Scopes = []string{"orders:read"}
	must(t, d.RotateAPIKey(ctx, second, overlap))
	if g2 := generation(t, d); g2 <= g {
		t.Fatalf("generation after RotateAPIKey: %d, want more than %d", g2, g)
	}
	first.ExpiresAt = overlap
	got, err := d.APIKey(ctx, "acme")
	must(t, err)
	checkKeys(t, got, []store.APIKey{first, second})

	// Rotating again with a later overlap keeps the first secret's earlier
	// expiry, and ends the second's.
	third := sampleKey("acme", "s3", t0.Add(2*time.Hour))
	must(t, d.RotateAPIKey(ctx, third, t0.Add(48*time.Hour)))
	second.ExpiresAt = t0.Add(48 * time.Hour)
	got, err = d.APIKey(ctx, "acme")
	must(t, err)
	checkKeys(t, got, []store.APIKey{first, second, third})
}

func keysRevoke(t *testing.T, d store.Durable) {
	ctx := context.Background()
	t0 := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	if err := d.RevokeAPIKey(ctx, "acme", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeAPIKey of an unknown id: got %v, want ErrNotFound", err)
	}
	a1, a2, b := sampleKey("acme", "s1", t0), sampleKey("acme", "s2", t0.Add(time.Minute)), sampleKey("beta", "s", t0)
	must(t, d.CreateAPIKey(ctx, a1))
	must(t, d.RotateAPIKey(ctx, a2, t0.Add(time.Hour)))
	must(t, d.CreateAPIKey(ctx, b))
	g := generation(t, d)
	at := t0.Add(10 * time.Minute)
	must(t, d.RevokeAPIKey(ctx, "acme", at))
	if g2 := generation(t, d); g2 <= g {
		t.Fatalf("generation after RevokeAPIKey: %d, want more than %d", g2, g)
	}
	must(t, d.RevokeAPIKey(ctx, "acme", at.Add(time.Hour)))
	a1.ExpiresAt, a1.RevokedAt, a2.RevokedAt = t0.Add(time.Hour), at, at
	got, err := d.APIKey(ctx, "acme")
	must(t, err)
	checkKeys(t, got, []store.APIKey{a1, a2})
	// Rotating a revoked key leaves its revoked secrets as they are.
	a3 := sampleKey("acme", "s3", t0.Add(time.Hour))
	must(t, d.RotateAPIKey(ctx, a3, t0.Add(2*time.Hour)))
	got, err = d.APIKey(ctx, "acme")
	must(t, err)
	checkKeys(t, got, []store.APIKey{a1, a2, a3})
	other, err := d.APIKey(ctx, "beta")
	must(t, err)
	checkKeys(t, other, []store.APIKey{b})
	g = generation(t, d)
	if err := d.RevokeAPIKey(ctx, "nope", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeAPIKey of an unknown id: %v", err)
	}
	if g2 := generation(t, d); g2 != g {
		t.Fatalf("a failed revocation moved the generation from %d to %d", g, g2)
	}
}

// keysConcurrentCreate: of concurrent creations of one id, exactly one
// succeeds.
func keysConcurrentCreate(t *testing.T, d store.Durable) {
	ctx := context.Background()
	var wins atomic.Int64
	race(8, func(i int) {
		err := d.CreateAPIKey(ctx, sampleKey("race", string(rune('a'+i)), time.Now()))
		switch {
		case err == nil:
			wins.Add(1)
		case !errors.Is(err, store.ErrExists):
			t.Error(err)
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent creations of one id succeeded, want 1", wins.Load())
	}
	got, err := d.APIKey(ctx, "race")
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("the id has %d secrets, want 1", len(got))
	}
}

func keysCancelled(t *testing.T, d store.Durable) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	must(t, d.CreateAPIKey(context.Background(), sampleKey("k", "s", time.Now())))
	err1 := d.CreateAPIKey(ctx, sampleKey("k2", "s", time.Now()))
	_, err2 := d.APIKey(ctx, "k")
	_, err3 := d.ListAPIKeys(ctx)
	err4 := d.RevokeAPIKey(ctx, "k", time.Now())
	err5 := d.RotateAPIKey(ctx, sampleKey("k", "s2", time.Now()), time.Now())
	for i, err := range []error{err1, err2, err3, err4, err5} {
		if !errors.Is(err, context.Canceled) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("call %d with a cancelled context: got %v, want context.Canceled wrapped in ErrUnavailable", i+1, err)
		}
	}
	got, err := d.APIKey(context.Background(), "k")
	must(t, err)
	if len(got) != 1 || !got[0].RevokedAt.IsZero() {
		t.Errorf("a cancelled call changed the key: %+v", got)
	}
}
