package service

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// TokenType is the typ of attestation tokens, so that no other token of
// the same issuer can pass for one (RFC 8725 §3.11).
const TokenType = "attest+jwt"

// Claims are an attestation token's claims (docs/protocol.md §4).
type Claims struct {
	Issuer      string       `json:"iss"`
	Subject     string       `json:"sub"`
	App         string       `json:"app"`
	Version     string       `json:"ver,omitempty"`
	Platform    string       `json:"plat"`
	Environment string       `json:"env"`
	IssuedAt    int64        `json:"iat"`
	Expiry      int64        `json:"exp"`
	ID          string       `json:"jti"`
	Cnf         Confirmation `json:"cnf"`
	AuthHash    string       `json:"uth,omitempty"`
}

// Confirmation binds the token to the request-signing key (RFC 7800):
// its thumbprint (RFC 9449 §6.1), and its public JWK (RFC 7800 §3.2) so
// that the gateway can check HTTP message signatures by it without a
// look-up.
type Confirmation struct {
	JKT string          `json:"jkt"`
	JWK json.RawMessage `json:"jwk,omitempty"`
}

// Issuer signs attestation tokens. The first key signs; all keys are
// published, so that keys can rotate without refusing tokens in flight.
type Issuer struct {
	name   string
	keys   []*token.Key
	signer *token.Signer
	jwks   []byte
}

// NewIssuer returns an issuer named name signing with keys[0].
func NewIssuer(name string, keys []*token.Key) (*Issuer, error) {
	if len(keys) == 0 {
		return nil, errors.New("attestation: no signing key")
	}
	alg, err := signingAlg(keys[0])
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(keys[0], alg)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, err := signingAlg(k); err != nil {
			return nil, err
		}
	}
	jwks, err := token.PublicJWKS(keys...)
	if err != nil {
		return nil, err
	}
	return &Issuer{name: name, keys: keys, signer: signer, jwks: jwks}, nil
}

// LoadIssuer reads PEM private keys from files; with no files it
// generates an Ed25519 key (one node only: replicas would not share it).
func LoadIssuer(name string, files []string) (*Issuer, error) {
	var keys []*token.Key
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("attestation signing key: %w", err)
		}
		set, err := token.ParseKeys(b)
		if err != nil {
			return nil, fmt.Errorf("attestation signing key %s: %w", f, err)
		}
		for _, k := range set.Keys() {
			if !k.HasPrivate() {
				return nil, fmt.Errorf("attestation signing key %s: not a private key", f)
			}
			if k.KID() == "" {
				kid, err := token.Thumbprint(k.Public())
				if err != nil {
					return nil, err
				}
				alg, err := signingAlg(k)
				if err != nil {
					return nil, err
				}
				if k, err = token.NewKey(k.Private(), kid, alg); err != nil {
					return nil, err
				}
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		k, err := token.GenerateKey("EdDSA")
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return NewIssuer(name, keys)
}

func signingAlg(k *token.Key) (string, error) {
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		return "EdDSA", nil
	case *ecdsa.PublicKey:
		if pub.Curve.Params().Name == "P-256" {
			return "ES256", nil
		}
	}
	return "", errors.New("attestation: signing keys are Ed25519 or EC P-256")
}

// Name is the iss of the tokens.
func (i *Issuer) Name() string { return i.name }

// JWKS is the public key set, published at /.well-known/jwks.json.
func (i *Issuer) JWKS() []byte { return i.jwks }

// PublicKeys returns the keys as a set for verifiers in this process.
func (i *Issuer) PublicKeys() *token.KeySet { return token.NewKeySet(i.keys...) }

// Algorithms are the algorithms of the issuer's keys.
func (i *Issuer) Algorithms() []string {
	var out []string
	for _, k := range i.keys {
		alg, _ := signingAlg(k)
		out = append(out, alg)
	}
	return out
}

// Issue signs a token for c with lifetime ttl from now.
func (i *Issuer) Issue(c Claims, now time.Time, ttl time.Duration) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	c.Issuer = i.name
	c.IssuedAt = now.Unix()
	c.Expiry = now.Add(ttl).Unix()
	c.ID = base64.RawURLEncoding.EncodeToString(jti[:])
	return i.signer.Sign(c, TokenType)
}
