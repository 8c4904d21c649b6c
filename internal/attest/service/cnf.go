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
// key when it is the signing key (Android). Only the members that make
// the thumbprint are kept (a client's kid or x5c would only bloat every
// token), and only a key whose thumbprint is jkt is ever written. nil
// when the exchange did not send the key (an App Attest refresh without
// signing_key): the token then binds the key by thumbprint only, which is
// enough for DPoP proofs, which carry their key, but not for HTTP message
// signatures.
func boundJWK(r *Request, f attest.Facts, jkt string) json.RawMessage {
	var pub crypto.PublicKey
	switch {
	case len(r.SigningKey) > 0:
		if k, err := token.ParseJWK(r.SigningKey); err == nil && !k.HasPrivate() {
			pub = k.Public()
		}
	case len(f.PublicKey) > 0:
		pub, _ = x509.ParsePKIXPublicKey(f.PublicKey)
	}
	if pub == nil {
		return nil
	}
	if t, err := token.Thumbprint(pub); err != nil || t != jkt {
		return nil
	}
	k, err := token.NewKey(pub, "", "")
	if err != nil {
		return nil
	}
	b, err := k.PublicJWK()
	if err != nil {
		return nil
	}
	return b
}
