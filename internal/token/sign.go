package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Signer issues compact JWS tokens with one key and one algorithm, by
// go-jose (ECDSA signatures in the P1363 form of RFC 7518 §3.4).
type Signer struct {
	alg string
	key jose.SigningKey
}

// NewSigner returns a Signer of alg with k, which must hold private or
// secret material and fit alg. The key's kid, if any, goes in the header.
func NewSigner(k *Key, alg string) (*Signer, error) {
	if !k.HasPrivate() {
		return nil, errors.New("token: a signer needs a private or secret key")
	}
	if info, ok := algs[alg]; !ok || info.paseto || alg == "Ed25519" {
		return nil, fmt.Errorf("token: cannot sign JWS with %q", alg)
	}
	if !k.fits(alg) {
		return nil, fmt.Errorf("token: a %s key cannot sign %s", k.kty, alg)
	}
	return &Signer{alg: alg, key: jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(alg),
		Key:       jose.JSONWebKey{Key: keyMaterial(k), KeyID: k.kid},
	}}, nil
}

// Sign returns a compact JWS of claims (marshalled as JSON) with typ in
// the header when not empty, such as "at+jwt" (RFC 9068 §2.1).
func (s *Signer) Sign(claims any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	return s.SignBytes(payload, typ)
}

// SignBytes signs a payload as it is.
func (s *Signer) SignBytes(payload []byte, typ string) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(s.key, opts)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	return obj.CompactSerialize()
}

// Encrypt returns a compact JWE of plaintext to the recipient's public
// key (or shared key for dir and key wrapping), with cty "JWT" when the
// plaintext is a nested JWT (RFC 7519 §5.2).
func Encrypt(plaintext []byte, recipient *Key, alg, enc string, nestedJWT bool) (string, error) {
	if _, ok := jweKeyAlgs[alg]; !ok || alg == "RSA1_5" {
		return "", fmt.Errorf("token: cannot encrypt with %q", alg)
	}
	var key any = recipient.pub
	if recipient.secret != nil {
		key = recipient.secret
	}
	opts := &jose.EncrypterOptions{}
	if nestedJWT {
		opts = opts.WithContentType("JWT")
	}
	e, err := jose.NewEncrypter(jose.ContentEncryption(enc), jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: key, KeyID: recipient.kid}, opts)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	obj, err := e.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	return obj.CompactSerialize()
}

// GenerateKey makes a signing key for EdDSA, ES256 or RS256 (3072 bits),
// whose kid is its RFC 7638 thumbprint and which declares its alg and use
// "sig".
func GenerateKey(alg string) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("token: generate EdDSA, ES256 or RS256 keys, not %q", alg)
	}
	if err != nil {
		return nil, err
	}
	kid, err := Thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	k, err := NewKey(priv, kid, alg)
	if err != nil {
		return nil, err
	}
	k.use = "sig"
	return k, nil
}

// PublicJWK returns the key's public JWK (RFC 7517), with kid, alg and
// use. Symmetric keys have no public form.
func (k *Key) PublicJWK() ([]byte, error) {
	if k.pub == nil {
		return nil, errors.New("token: a symmetric key has no public JWK")
	}
	return json.Marshal(jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: k.alg, Use: k.use})
}

// PublicJWKS returns a JWK Set of the keys' public halves.
func PublicJWKS(keys ...*Key) ([]byte, error) {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		if k.pub == nil {
			return nil, errors.New("token: a symmetric key has no public JWK")
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: k.alg, Use: k.use})
	}
	return json.MarshalIndent(set, "", "  ")
}

// PrivatePEM returns the private key as PKCS#8 PEM.
func (k *Key) PrivatePEM() ([]byte, error) {
	if k.priv == nil {
		return nil, errors.New("token: no private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
