package token_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

func ecdhP256() ecdh.Curve { return ecdh.P256() }

// ecdhWith agrees a secret between a private JWK and a checked epk.
func ecdhWith(t testing.TB, k *token.Key, epk *ecdh.PublicKey) []byte {
	t.Helper()
	priv, ok := k.Private().(*ecdsa.PrivateKey)
	if !ok {
		t.Fatal("not an EC private key")
	}
	ep, err := priv.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ep.ECDH(epk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
