package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// TestBoundJWK: cnf.jwk is the signing key's public JWK with only the
// thumbprint's members, from signing_key or the attested key, and never
// a key whose thumbprint is not jkt.
func TestBoundJWK(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jkt, _ := token.Thumbprint(&k.PublicKey)
	tk, _ := token.NewKey(&k.PublicKey, "client-kid", "ES256")
	withExtras, _ := tk.PublicJWK() // kid and alg: not carried over
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherSPKI, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	for _, tc := range []struct {
		name  string
		r     Request
		f     attest.Facts
		known json.RawMessage
		want  bool
	}{
		{"signing_key", Request{SigningKey: withExtras}, attest.Facts{}, nil, true},
		{"the attested key (Android)", Request{}, attest.Facts{PublicKey: spki}, nil, true},
		{"an attested key that is not K (App Attest)", Request{}, attest.Facts{PublicKey: otherSPKI}, nil, false},
		{"no key at all (a refresh without signing_key)", Request{}, attest.Facts{}, nil, false},
		{"a private JWK", Request{SigningKey: []byte(`{"kty":"oct","k":"AAAA"}`)}, attest.Facts{}, nil, false},
		{"remembered at registration (App Attest refresh)", Request{}, attest.Facts{PublicKey: otherSPKI}, withExtras, true},
		{"remembered, but another key", Request{}, attest.Facts{}, json.RawMessage(mustJWK(t, &other.PublicKey)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := boundJWK(&tc.r, tc.f, jkt, tc.known)
			if (got != nil) != tc.want {
				t.Fatalf("boundJWK = %s, want a key: %v", got, tc.want)
			}
			if got == nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil || len(m) != 4 || m["kty"] != "EC" || m["kid"] != nil {
				t.Fatalf("cnf.jwk %s: want exactly kty, crv, x, y", got)
			}
			pk, err := token.ParseJWK(got)
			if err != nil {
				t.Fatal(err)
			}
			if th, _ := token.Thumbprint(pk.Public()); th != jkt {
				t.Fatalf("cnf.jwk's thumbprint %s, want %s", th, jkt)
			}
		})
	}
}

func mustJWK(t *testing.T, pub any) []byte {
	t.Helper()
	k, err := token.NewKey(pub, "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
