package apikey_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// countingStore counts reads and can fail.
type countingStore struct {
	*memory.Durable
	reads atomic.Int64
	fail  atomic.Bool
}

func (c *countingStore) APIKey(ctx context.Context, id string) ([]store.APIKey, error) {
	c.reads.Add(1)
	if c.fail.Load() {
		return nil, store.ErrUnavailable
	}
	return c.Durable.APIKey(ctx, id)
}

func reason(err error) string {
	var e *apikey.Error
	if errors.As(err, &e) {
		return e.Reason()
	}
	return ""
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	h, err := apikey.NewHasher([]byte(strings.Repeat("p", 32)))
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Durable: memory.NewDurable()}
	create := func(id string, expires time.Time) apikey.Credential {
		c, err := apikey.New(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateAPIKey(ctx, store.APIKey{ID: id, Hash: h.Hash(c.Secret), Scopes: []string{"a"}, CreatedAt: now, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	acme := create("acme", time.Time{})
	old := create("old", now.Add(-time.Second))
	v := &apikey.Verifier{Keys: st, Hasher: h, Now: func() time.Time { return now }, Generation: func() uint64 { g, _ := st.Generation(ctx); return g }}

	k, err := v.Verify(ctx, acme.String())
	if err != nil || k.ID != "acme" || k.Scopes[0] != "a" {
		t.Fatalf("valid key: %+v %v", k, err)
	}
	reads := st.reads.Load()
	for range 100 {
		if _, err := v.Verify(ctx, acme.String()); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Errorf("a hot key read the store %d times in 100 requests", n)
	}
	wrong := acme
	wrong.Secret = strings.Repeat("A", len(acme.Secret))
	unknown := acme
	unknown.ID = "nobody"
	for name, tc := range map[string]struct{ cred, reason string }{
		"wrong secret":  {wrong.String(), apikey.ReasonInvalid},
		"unknown id":    {unknown.String(), apikey.ReasonInvalid},
		"malformed":     {"dbk_acme", apikey.ReasonInvalid},
		"no prefix":     {acme.ID + "_" + acme.Secret, apikey.ReasonInvalid},
		"upper-case id": {"dbk_ACME_" + acme.Secret, apikey.ReasonInvalid},
		"expired":       {old.String(), apikey.ReasonExpired},
	} {
		if _, err := v.Verify(ctx, tc.cred); reason(err) != tc.reason {
			t.Errorf("%s: %v, want %s", name, err, tc.reason)
		}
		if err != nil && strings.Contains(err.Error(), acme.Secret) {
			t.Errorf("%s: the error quotes the secret", name)
		}
	}

	// Rotation with overlap: both secrets work until the old one expires.
	next, _ := apikey.New("acme")
	if err := st.RotateAPIKey(ctx, store.APIKey{ID: "acme", Hash: h.Hash(next.Secret), CreatedAt: now}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []apikey.Credential{acme, next} {
		if _, err := v.Verify(ctx, c.String()); err != nil {
			t.Fatalf("during the overlap: %v", err)
		}
	}
	now = now.Add(time.Hour)
	if _, err := v.Verify(ctx, acme.String()); reason(err) != apikey.ReasonExpired {
		t.Fatalf("after the overlap, the old secret: %v", err)
	}
	if _, err := v.Verify(ctx, next.String()); err != nil {
		t.Fatalf("after the overlap, the new secret: %v", err)
	}

	// A revocation applies as soon as the generation moves.
	if err := st.RevokeAPIKey(ctx, "acme", now); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, next.String()); reason(err) != apikey.ReasonRevoked {
		t.Fatalf("after revocation: %v", err)
	}

	// A failing store fails closed; a cached entry outlives it for its TTL.
	_, _ = v.Verify(ctx, unknown.String())
	st.fail.Store(true)
	if _, err := v.Verify(ctx, unknown.String()); reason(err) != apikey.ReasonInvalid {
		t.Fatalf("a cached unknown id: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := v.Verify(ctx, next.String()); reason(err) != apikey.ReasonUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("store down: %v", err)
	}
}

func TestParse(t *testing.T) {
	c, err := apikey.New(apikey.NewID())
	if err != nil {
		t.Fatal(err)
	}
	got, err := apikey.Parse(c.String())
	if err != nil || got != c {
		t.Fatalf("Parse(%q) = %+v, %v", c, got, err)
	}
	for _, bad := range []string{"", "dbk_", "dbk__" + c.Secret, "dbk_a_b", "dbk_a_" + c.Secret + "=", "dbk_a-b_" + c.Secret[:42] + "+"} {
		if _, err := apikey.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := apikey.New("Bad_ID"); err == nil {
		t.Error("New accepted an id with '_' and capitals")
	}
	if _, err := apikey.NewHasher([]byte("short")); err == nil {
		t.Error("a short pepper was accepted")
	}
}

// FuzzParse: credentials from requests never panic the parser.
func FuzzParse(f *testing.F) {
	c, _ := apikey.New("acme")
	f.Add(c.String())
	f.Add("dbk_x_")
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := apikey.Parse(s); err == nil && c.String() != s {
			t.Fatalf("Parse(%q) = %+v, which prints differently", s, c)
		}
	})
}
