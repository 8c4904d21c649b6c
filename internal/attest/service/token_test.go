package service_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// verifyToken checks a token as a relying party would: with only the
// issuer's published JWKS, its name and the attestation token type.
func verifyToken(t testing.TB, f *fixture, raw string, now time.Time) *token.Token {
	t.Helper()
	keys, err := token.ParseJWKS(f.issuer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{
			Issuer: f.issuer.Name(), Keys: []token.KeySource{keys}, Algorithms: []string{"EdDSA", "ES256"},
			Type: service.TokenType, RequiredClaims: []string{"sub", "app", "plat", "env", "iat", "jti", "cnf"},
		}},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("the issued token does not verify against the issuer's JWKS: %v", err)
	}
	return tok
}

func claimsOf(t testing.TB, f *fixture, raw string) map[string]any {
	t.Helper()
	return verifyToken(t, f, raw, f.clock.Now()).Claims.Map()
}

func cnf(c map[string]any) string {
	m, _ := c["cnf"].(map[string]any)
	s, _ := m["jkt"].(string)
	return s
}

// The token carries exactly the claims of docs/protocol.md §4.
func TestTokenClaims(t *testing.T) {
	f := newFixture(t)
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	a.req.Authorization = "Bearer user-session-token"
	iss := a.mustDo()
	now := f.clock.Now()
	tok := verifyToken(t, f, iss.Token, now)
	if tok.Type != service.TokenType || tok.Alg != "EdDSA" || tok.KID == "" {
		t.Errorf("header: typ %q alg %q kid %q, want %s, EdDSA and a kid", tok.Type, tok.Alg, tok.KID, service.TokenType)
	}
	c := tok.Claims.Map()
	jti, _ := c["jti"].(string)
	if len(jti) < 22 {
		t.Errorf("jti %q: want at least 128 random bits", jti)
	}
	got := map[string]any{}
	for k, v := range c {
		got[k] = numberToFloat(v)
	}
	delete(got, "jti")
	// cnf.jwk, when present, is the signing key itself.
	if m, _ := got["cnf"].(map[string]any); m["jwk"] != nil {
		b, _ := json.Marshal(m["jwk"])
		k, err := token.ParseJWK(b)
		if err != nil {
			t.Fatalf("cnf.jwk: %v", err)
		}
		if th, _ := token.Thumbprint(k.Public()); th != a.signer.jkt {
			t.Errorf("cnf.jwk is another key than cnf.jkt")
		}
		delete(m, "jwk")
	}
	want := map[string]any{
		"iss": "https://gw.test", "sub": iss.InstallID, "app": appIOS, "ver": "2.3.1",
		"plat": "apple", "env": "production",
		"iat": float64(now.Unix()), "exp": float64(now.Add(5 * time.Minute).Unix()),
		"cnf": map[string]any{"jkt": a.signer.jkt},
		"uth": service.AuthHash("Bearer user-session-token"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("claims (-want +got):\n%s", d)
	}
	// Two tokens never share a jti.
	iss2 := f.appleExchange(appIOS, appattesttest.Production, "2.3.1").mustDo()
	if c2 := claimsOf(t, f, iss2.Token); c2["jti"] == c["jti"] {
		t.Error("two tokens with one jti")
	}
	// uth is base64url(SHA-256(Authorization)), without padding.
	if got := service.AuthHash("abc"); got != "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" {
		t.Errorf("AuthHash(abc) = %s", got)
	}
	// Without a uth request, no uth claim; the expiry is the app's TTL.
	iss3 := f.appleExchange(appIOSDev, appattesttest.Production, "").mustDo()
	c3 := claimsOf(t, f, iss3.Token)
	if _, ok := c3["uth"]; ok {
		t.Error("uth without a binding request")
	}
	if _, ok := c3["ver"]; ok {
		t.Error("ver without a version")
	}
	// The token is refused by a relying party once expired.
	keys, _ := token.ParseJWKS(f.issuer.JWKS())
	v, _ := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{Issuer: f.issuer.Name(), Keys: []token.KeySource{keys}, Algorithms: []string{"EdDSA"}, Type: service.TokenType}},
		Now:     func() time.Time { return now.Add(5*time.Minute + time.Second) },
	})
	if _, err := v.Verify(context.Background(), iss.Token); token.ReasonOf(err) != token.ReasonExpired {
		t.Errorf("after its lifetime: %v, want %s", err, token.ReasonExpired)
	}
}

// numberToFloat lets cmp compare JSON numbers with literals.
func numberToFloat(v any) any {
	if n, ok := v.(interface{ Float64() (float64, error) }); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

// Issuers refuse what they cannot sign with, and publish every key.
func TestIssuerKeys(t *testing.T) {
	ed, _ := token.GenerateKey("EdDSA")
	es, _ := token.GenerateKey("ES256")
	rs, _ := token.GenerateKey("RS256")
	if _, err := service.NewIssuer("x", nil); err == nil {
		t.Error("an issuer without keys")
	}
	if _, err := service.NewIssuer("x", []*token.Key{rs}); err == nil {
		t.Error("an issuer with an RSA key")
	}
	iss, err := service.NewIssuer("x", []*token.Key{es, ed})
	if err != nil {
		t.Fatal(err)
	}
	set, err := token.ParseJWKS(iss.JWKS())
	if err != nil || set.Len() != 2 {
		t.Fatalf("JWKS: %d keys, %v", set.Len(), err)
	}
	if d := cmp.Diff([]string{"ES256", "EdDSA"}, iss.Algorithms()); d != "" {
		t.Error(d)
	}
	for _, k := range set.Keys() {
		if k.HasPrivate() {
			t.Error("the JWKS publishes a private key")
		}
	}
}
