package service

import (
	"crypto"
	"crypto/x509"
	"encoding/json"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// boundJWK is the cnf.jwk of a token bound to jkt: the public JWK of the
// request-signing key, from the exchange's signing_key, or the attested
// key when it is the signing key (Android), or the key remembered from the
// install's registration (known; an App Attest refresh). Only the members that make
// the thumbprint are kept (a client's kid or x5c would only bloat every
// token), and only a key whose thumbprint is jkt is ever written. nil
// when no public key is known (a device registered before keys were
// remembered, refreshing without signing_key): the token then binds the
// key by thumbprint only, which is enough for DPoP proofs, which carry
// their key, but not for HTTP message signatures.
func boundJWK(r *Request, f attest.Facts, jkt string, known json.RawMessage) json.RawMessage {
	for _, pub := range []crypto.PublicKey{publicJWK(r.SigningKey), attestedKey(f.PublicKey), publicJWK(known)} {
		if pub == nil {
			continue
		}
		if t, err := token.Thumbprint(pub); err != nil || t != jkt {
			continue
		}
		k, err := token.NewKey(pub, "", "")
		if err != nil {
			continue
		}
		if b, err := k.PublicJWK(); err == nil {
			return b
		}
	}
	return nil
}

// publicJWK parses a public JWK; nil if there is none or it is not one.
func publicJWK(b []byte) crypto.PublicKey {
	if len(b) == 0 {
		return nil
	}
	k, err := token.ParseJWK(b)
	if err != nil || k.HasPrivate() {
		return nil
	}
	return k.Public()
}

// attestedKey parses an attested PKIX key; nil if there is none.
func attestedKey(der []byte) crypto.PublicKey {
	if len(der) == 0 {
		return nil
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil
	}
	return pub
}
