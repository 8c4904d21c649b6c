package token_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

func staticVerifier(t testing.TB, k *token.Key, clk func() time.Time, mod func(*token.IssuerConfig), cache *token.Cache) *token.Verifier {
	t.Helper()
	ic := token.IssuerConfig{Issuer: remoteIss, Keys: []token.KeySource{token.NewKeySet(k)}, Algorithms: []string{k.Alg()}, Audiences: []string{"api"}}
	if mod != nil {
		mod(&ic)
	}
	v, err := token.NewVerifier(token.Config{Issuers: []token.IssuerConfig{ic}, Now: clk, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExpiryBoundaries is JWT-17: now must be before exp (+ leeway).
func TestExpiryBoundaries(t *testing.T) {
	k := genKey(t, "ES256")
	base := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name   string
		exp    int64 // relative to now
		leeway time.Duration
		want   string
	}{
		{"exp now-1, no leeway", -1, 0, token.ReasonExpired},
		{"exp now, no leeway", 0, 0, token.ReasonExpired},
		{"exp now+1, no leeway", 1, 0, ""},
		{"exp now-1, 30s leeway", -1, 30 * time.Second, ""},
		{"exp now-30, 30s leeway", -30, 30 * time.Second, token.ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := staticVerifier(t, k, func() time.Time { return base }, func(ic *token.IssuerConfig) { ic.Leeway = tc.leeway }, nil)
			tok := mint(t, k, func(c map[string]any) { c["exp"] = base.Unix() + tc.exp; c["iat"] = base.Unix() - 10 })
			_, err := v.Verify(context.Background(), tok)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, tc.want)
		})
	}
}

// TestNumericDates accepts fractional NumericDates and refuses the rest.
func TestNumericDates(t *testing.T) {
	k := genKey(t, "ES256")
	v := staticVerifier(t, k, time.Now, nil, nil)
	tok := mint(t, k, func(c map[string]any) { c["exp"] = float64(time.Now().Unix()) + 60.5 })
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claims.Expiry.Nanosecond() != 5e8 {
		t.Errorf("exp = %v", got.Claims.Expiry)
	}
}

// TestCache: a hit costs no signature check, never outlives exp or the
// TTL, and two spellings of one signature are two entries.
func TestCache(t *testing.T) {
	k := genKey(t, "ES256")
	clk := newClock()
	cache := token.NewCache(64, time.Minute)
	v := staticVerifier(t, k, clk.Now, nil, cache)
	tok := mint(t, k, func(c map[string]any) { c["exp"] = clk.Now().Unix() + 30 })
	ctx := context.Background()
	a, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Verify(ctx, tok)
	if err != nil || a != b {
		t.Fatalf("second verify did not come from the cache: %v", err)
	}
	// 31 seconds later the token has expired: the cache must not serve it.
	clk.Advance(31 * time.Second)
	_, err = v.Verify(ctx, tok)
	wantReason(t, err, token.ReasonExpired)

	// The TTL bounds a long-lived token.
	long := mint(t, k, func(c map[string]any) { c["exp"] = clk.Now().Unix() + 3600 })
	first, _ := v.Verify(ctx, long)
	clk.Advance(61 * time.Second)
	again, err := v.Verify(ctx, long)
	if err != nil || again == first {
		t.Fatalf("served past the TTL (%v)", err)
	}
	// Bounded in entries.
	for i := range 500 {
		_, _ = v.Verify(ctx, mint(t, k, func(c map[string]any) { c["jti"] = i }))
	}
	if n := cache.Len(); n > 64+16 {
		t.Fatalf("cache holds %d entries, bound 64", n)
	}
}

// TestConfigRefusals: configurations that could not be safe are errors.
func TestConfigRefusals(t *testing.T) {
	k := genKey(t, "ES256")
	keys := []token.KeySource{token.NewKeySet(k)}
	for name, c := range map[string]token.Config{
		"no issuer":        {},
		"no algorithms":    {Issuers: []token.IssuerConfig{{Issuer: "a", Keys: keys}}},
		"alg none":         {Issuers: []token.IssuerConfig{{Issuer: "a", Keys: keys, Algorithms: []string{"none"}}}},
		"unknown alg":      {Issuers: []token.IssuerConfig{{Issuer: "a", Keys: keys, Algorithms: []string{"ES257"}}}},
		"no keys":          {Issuers: []token.IssuerConfig{{Issuer: "a", Algorithms: []string{"ES256"}}}},
		"any iss and more": {Issuers: []token.IssuerConfig{{Keys: keys, Algorithms: []string{"ES256"}}, {Issuer: "b", Keys: keys, Algorithms: []string{"ES256"}}}},
		"twice":            {Issuers: []token.IssuerConfig{{Issuer: "a", Keys: keys, Algorithms: []string{"ES256"}}, {Issuer: "a", Keys: keys, Algorithms: []string{"ES256"}}}},
		"JWE without keys": {Issuers: []token.IssuerConfig{{Issuer: "a", Keys: keys, Algorithms: []string{"ES256"}}}, JWE: &token.JWEConfig{}},
	} {
		if _, err := token.NewVerifier(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// JWT-03: empty and short HMAC secrets are refused at load.
	for _, secret := range [][]byte{nil, {}, []byte("short"), make([]byte, 20)} {
		if _, err := token.NewKey(secret, "h", "HS256"); err == nil {
			t.Errorf("a %d-byte HS256 secret was accepted", len(secret))
		}
	}
	if _, err := token.ParseJWK([]byte(`{"kty":"oct","k":""}`)); err == nil {
		t.Error("an empty oct JWK was accepted")
	}
	if _, err := token.ParseJWK([]byte(`{"kty":"EC","kty":"RSA"}`)); err == nil || !strings.Contains(err.Error(), "distinct") {
		t.Errorf("a JWK with a duplicate member: %v", err)
	}
	// A key declaring an alg of another type is refused.
	if _, err := token.NewKey(k.Private(), "x", "RS256"); err == nil {
		t.Error("an EC key declaring RS256 was accepted")
	}
}
