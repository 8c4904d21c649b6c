package dpop_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

type failingGuard struct{}

func (failingGuard) Claim(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("store down")
}

// TestRefusals: each check refuses with its reason, in the documented
// order.
func TestRefusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	key, _ := dpoptest.NewKey("ES256")
	key.Now = clock
	other, _ := dpoptest.NewKey("EdDSA")
	other.Now = clock
	const uri = "https://api.example.com/v1/orders"
	const at = "access-token"
	nonces := &dpop.Nonces{Secret: dpop.NewSecret(), Now: clock}
	proof := func(c dpoptest.Claims) string {
		if c.Method == "" {
			c.Method = "POST"
		}
		if c.URI == "" {
			c.URI = uri
		}
		if c.AccessToken == "" {
			c.AccessToken = at
		}
		return key.ProofWith(c, nil)
	}
	withHeader := func(h map[string]any) string {
		return key.ProofWith(dpoptest.Claims{Method: "POST", URI: uri, AccessToken: at}, h)
	}
	good := proof(dpoptest.Claims{})
	for _, tc := range []struct {
		name   string
		proofs []string
		reason string
		mut    func(*dpop.Verifier, *dpop.Request)
	}{
		{"missing", nil, dpop.ReasonMissing, nil},
		{"empty", []string{""}, dpop.ReasonMissing, nil},
		{"two fields", []string{good, good}, dpop.ReasonMalformed, nil},
		{"too large", []string{good + strings.Repeat("A", 9<<10)}, dpop.ReasonTooLarge, nil},
		{"not a JWS", []string{"not.a.jws!"}, dpop.ReasonMalformed, nil},
		{"JSON serialisation", []string{`{"payload":"x"}`}, dpop.ReasonMalformed, nil},
		{"typ JWT", []string{withHeader(map[string]any{"typ": "JWT"})}, dpop.ReasonBadType, nil},
		{"alg none", []string{withHeader(map[string]any{"alg": "none"})}, dpop.ReasonAlgNotAllowed, nil},
		{"alg not listed", []string{good}, dpop.ReasonAlgNotAllowed, func(v *dpop.Verifier, _ *dpop.Request) { v.Algorithms = []string{"EdDSA"} }},
		{"no jwk", []string{withHeader(map[string]any{"jwk": nil})}, dpop.ReasonBadKey, nil},
		{"kid", []string{withHeader(map[string]any{"kid": "k1"})}, dpop.ReasonBadKey, nil},
		{"x5c", []string{withHeader(map[string]any{"x5c": []string{"MIIB"}})}, dpop.ReasonBadKey, nil},
		{"private jwk", []string{withHeader(map[string]any{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": key.JWK["x"], "y": key.JWK["y"], "d": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}})}, dpop.ReasonBadKey, nil},
		{"another key's jwk", []string{withHeader(map[string]any{"jwk": other.JWK, "alg": "EdDSA"})}, dpop.ReasonInvalidSignature, nil},
		{"no jti", []string{key.Sign(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": key.JWK}, map[string]any{"htm": "POST", "htu": uri, "iat": now.Unix()})}, dpop.ReasonMissingClaim, nil},
		{"no iat", []string{key.Sign(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": key.JWK}, map[string]any{"jti": "j", "htm": "POST", "htu": uri})}, dpop.ReasonMissingClaim, nil},
		{"jti too long", []string{proof(dpoptest.Claims{JTI: strings.Repeat("j", 257)})}, dpop.ReasonMalformed, nil},
		{"another method", []string{proof(dpoptest.Claims{Method: "GET"})}, dpop.ReasonMethodMismatch, nil},
		{"method case", []string{proof(dpoptest.Claims{Method: "post"})}, dpop.ReasonMethodMismatch, nil},
		{"another path", []string{proof(dpoptest.Claims{URI: "https://api.example.com/v1/admin"})}, dpop.ReasonURIMismatch, nil},
		{"another host", []string{proof(dpoptest.Claims{URI: "https://evil.example.com/v1/orders"})}, dpop.ReasonURIMismatch, nil},
		{"http for https", []string{proof(dpoptest.Claims{URI: "http://api.example.com/v1/orders"})}, dpop.ReasonURIMismatch, nil},
		{"nonce required", []string{good}, dpop.ReasonUseNonce, func(v *dpop.Verifier, _ *dpop.Request) { v.Nonces = nonces }},
		{"forged nonce", []string{proof(dpoptest.Claims{Nonce: (&dpop.Nonces{Secret: dpop.NewSecret(), Now: clock}).Issue()})}, dpop.ReasonUseNonce, func(v *dpop.Verifier, _ *dpop.Request) { v.Nonces = nonces }},
		{"expired nonce", []string{proof(dpoptest.Claims{Nonce: (&dpop.Nonces{Secret: nonces.Secret, Now: func() time.Time { return now.Add(-6 * time.Minute) }}).Issue()})}, dpop.ReasonUseNonce, func(v *dpop.Verifier, _ *dpop.Request) { v.Nonces = nonces }},
		{"iat in the future", []string{proof(dpoptest.Claims{IAT: now.Add(61 * time.Second)})}, dpop.ReasonIATInFuture, nil},
		{"iat too old", []string{proof(dpoptest.Claims{IAT: now.Add(-61 * time.Second)})}, dpop.ReasonTooOld, nil},
		{"no skew allowed", []string{proof(dpoptest.Claims{IAT: now.Add(time.Second)})}, dpop.ReasonIATInFuture, func(v *dpop.Verifier, _ *dpop.Request) { v.Skew = -1 }},
		{"no ath", []string{key.ProofWith(dpoptest.Claims{Method: "POST", URI: uri}, nil)}, dpop.ReasonAthMismatch, nil},
		{"ath of another token", []string{proof(dpoptest.Claims{AccessToken: "stolen"})}, dpop.ReasonAthMismatch, nil},
		{"bound to another key", []string{good}, dpop.ReasonKeyMismatch, func(_ *dpop.Verifier, r *dpop.Request) { r.BoundKeys = []string{key.JKT, other.JKT} }},
		{"guard down", []string{good}, dpop.ReasonUnavailable, func(v *dpop.Verifier, _ *dpop.Request) { v.ReplayGuard = failingGuard{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &dpop.Verifier{Now: clock}
			r := dpop.Request{Method: "POST", URI: uri + "?page=2", Proofs: tc.proofs, AccessToken: at, BoundKeys: []string{key.JKT}}
			if tc.mut != nil {
				tc.mut(v, &r)
			}
			_, err := v.Verify(context.Background(), r)
			if got := dpop.ReasonOf(err); got != tc.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.reason)
			}
			if !strings.HasPrefix(err.Error(), "dpop: ") || strings.Contains(err.Error(), at) {
				t.Errorf("error text %q", err)
			}
		})
	}
	// The good proof passes, with the query ignored, and only once.
	guard := memory.NewHot(memory.HotOptions{})
	defer guard.Close()
	v := &dpop.Verifier{Now: clock, ReplayGuard: guard}
	r := dpop.Request{Method: "POST", URI: uri + "?page=2", Proofs: []string{good}, AccessToken: at, BoundKeys: []string{key.JKT}}
	p, err := v.Verify(context.Background(), r)
	if err != nil || p.JKT != key.JKT {
		t.Fatalf("good proof: %v", err)
	}
	if _, err := v.Verify(context.Background(), r); dpop.ReasonOf(err) != dpop.ReasonReplayed {
		t.Fatalf("replayed: %v", err)
	}
	// A fresh nonce passes.
	v.Nonces = nonces
	r.Proofs = []string{proof(dpoptest.Claims{Nonce: v.NewNonce()})}
	if _, err := v.Verify(context.Background(), r); err != nil {
		t.Fatalf("with a fresh nonce: %v", err)
	}
}

// Concurrent replays of one proof: exactly one passes.
func TestConcurrentReplay(t *testing.T) {
	key, _ := dpoptest.NewKey("EdDSA")
	guard := memory.NewHot(memory.HotOptions{})
	defer guard.Close()
	v := &dpop.Verifier{ReplayGuard: guard}
	r := dpop.Request{Method: "GET", URI: "https://a.test/x", Proofs: []string{key.Proof("GET", "https://a.test/x")}}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), r); err == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d of 16 replays passed, want 1", wins.Load())
	}
}

func TestValidate(t *testing.T) {
	for _, v := range []*dpop.Verifier{
		{Algorithms: []string{"HS256"}}, {Algorithms: []string{}}, {Algorithms: []string{"none"}},
		{MaxAge: -time.Second}, {Nonces: &dpop.Nonces{Secret: []byte("short")}},
	} {
		if v.Validate() == nil {
			t.Errorf("%+v validated", v)
		}
	}
	if err := (&dpop.Verifier{Algorithms: []string{"ES256", "PS256"}, Nonces: &dpop.Nonces{Secret: dpop.NewSecret()}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	n := &dpop.Nonces{Secret: dpop.NewSecret(), Lifetime: time.Minute, Now: func() time.Time { return now }}
	nonce := n.Issue()
	if age, ok := n.Age(nonce); !ok || age != 0 {
		t.Fatalf("fresh nonce: %v %v", age, ok)
	}
	now = now.Add(59 * time.Second)
	if age, ok := n.Age(nonce); !ok || age != 59*time.Second {
		t.Fatalf("59s later: %v %v", age, ok)
	}
	now = now.Add(2 * time.Second)
	if _, ok := n.Age(nonce); ok {
		t.Fatal("an expired nonce was accepted")
	}
	for _, bad := range []string{"", "AAAA", nonce + "A", strings.ToUpper(nonce)} {
		if _, ok := n.Age(bad); ok {
			t.Errorf("nonce %q accepted", bad)
		}
	}
}
