package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
)

var b64url = base64.RawURLEncoding

// jwk is the public JWK of a P-256 key, with exactly the members RFC 7638
// hashes, in its order.
type jwk struct {
	Crv string `json:"crv"`
	Kty string `json:"kty"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// signingKey is K: a P-256 signer, its public JWK and thumbprint.
type signingKey struct {
	signer crypto.Signer
	jwk    jwk
	jkt    string
}

// newSigningKey checks that s is an ECDSA P-256 signer and computes its
// JWK and RFC 7638 thumbprint. A nil s means a new key in memory.
func newSigningKey(s crypto.Signer) (*signingKey, error) {
	if s == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		s = k
	}
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("client: the request-signing key must be ECDSA P-256")
	}
	j, err := publicJWK(pub)
	if err != nil {
		return nil, err
	}
	return &signingKey{signer: s, jwk: j, jkt: thumbprint(j)}, nil
}

// publicJWK is the JWK of a P-256 public key: x and y as 32 bytes each.
func publicJWK(pub *ecdsa.PublicKey) (jwk, error) {
	pt, err := pub.Bytes() // 0x04 || X || Y
	if err != nil || len(pt) != 65 {
		return jwk{}, errors.New("client: not a valid P-256 public key")
	}
	return jwk{Crv: "P-256", Kty: "EC", X: b64url.EncodeToString(pt[1:33]), Y: b64url.EncodeToString(pt[33:])}, nil
}

// thumbprint is the RFC 7638 thumbprint of an EC JWK: SHA-256 of the
// required members, sorted, without whitespace (§3.2).
func thumbprint(j jwk) string {
	sum := sha256.Sum256([]byte(`{"crv":"` + j.Crv + `","kty":"` + j.Kty + `","x":"` + j.X + `","y":"` + j.Y + `"}`))
	return b64url.EncodeToString(sum[:])
}

// signRaw signs SHA-256(msg) and returns r||s, 64 bytes, as JWS ES256
// (RFC 7518 §3.4) and RFC 9421's ecdsa-p256-sha256 (§3.3.4) want it. A
// crypto.Signer answers in ASN.1 DER.
func (k *signingKey) signRaw(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	der, err := k.signer.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("client: signing: %w", err)
	}
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) > 0 || sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 ||
		sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, errors.New("client: the signer's answer is not an ECDSA P-256 signature")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
