package token_test

import (
	"context"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/token"
	"github.com/drawbridge-gw/drawbridge/internal/token/tokentest"
)

// FuzzVerify feeds attacker bytes to the bearer path (JWS, JWE, PASETO)
// with the attack fixture's configuration: it must never panic, and any
// refusal carries a declared reason.
func FuzzVerify(f *testing.F) {
	fx := tokentest.New()
	for _, a := range fx.Attacks() {
		if len(a.Token) < 20000 {
			f.Add(a.Token)
		}
	}
	f.Add("v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIn0")
	f.Add("v4.local.AAAA")
	v, err := token.NewVerifier(fx.Config(false))
	if err != nil {
		f.Fatal(err)
	}
	declared := map[string]bool{}
	for _, r := range token.Reasons() {
		declared[r] = true
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := v.Verify(context.Background(), raw)
		if err != nil && !declared[token.ReasonOf(err)] {
			t.Fatalf("undeclared reason for %q: %v", raw, err)
		}
	})
}

// FuzzParseObject: the strict JSON parser never panics.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `{"a":[1,{"b":null}]}`, `{"\u0061":1,"a":2}`, `[`, `{"a":"\xff"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = token.ParseObject(b) })
}

// FuzzParseKeys: key files and fetched JWKS are parsed without panics.
func FuzzParseKeys(f *testing.F) {
	fx := tokentest.New()
	f.Add(fx.PublicJWKS())
	f.Add(fx.HMACIssuerKeys())
	f.Add(fx.DecryptionJWKS())
	f.Add([]byte("k4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAHrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI=\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = token.ParseKeys(b) })
}

// FuzzInspect: the CLI's untrusted decoder never panics.
func FuzzInspect(f *testing.F) {
	fx := tokentest.New()
	for _, a := range fx.Attacks()[:40] {
		f.Add(a.Token)
	}
	f.Add("v4.public.eyJzdWIiOiJ4In0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.e30")
	f.Fuzz(func(t *testing.T, raw string) { _, _ = token.Inspect(raw, 0) })
}
