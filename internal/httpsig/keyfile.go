package httpsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ParseKey reads a verification key: a PEM public key (SPKI "PUBLIC KEY"
// or PKCS #1 "RSA PUBLIC KEY"), a PEM private key whose public half is
// used, a JWK, or a base64 shared secret for HMAC. alg, if not empty, is
// the key's algorithm and must fit it; otherwise it follows from the key
// type: Ed25519, ECDSA P-256 with SHA-256, RSA-PSS with SHA-512, HMAC
// with SHA-256. A JWK's alg member is not consulted: the operator decides.
func ParseKey(data []byte, alg Algorithm) (Key, error) {
	data = bytes.TrimSpace(data)
	var pub crypto.PublicKey
	switch {
	case bytes.HasPrefix(data, []byte("-----BEGIN")):
		block, _ := pem.Decode(data)
		if block == nil {
			return Key{}, errors.New("httpsig: key: malformed PEM")
		}
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return Key{}, fmt.Errorf("httpsig: key: %w", err)
			}
			pub = k
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return Key{}, fmt.Errorf("httpsig: key: %w", err)
			}
			pub = k
		default:
			sk, err := ParseSigningKey(data, alg)
			if err != nil {
				return Key{}, err
			}
			return sk.Public(), nil
		}
	case bytes.HasPrefix(data, []byte("{")):
		sk, p, err := parseJWK(data)
		if err != nil {
			return Key{}, err
		}
		switch {
		case sk != nil:
			pub = sk.Public()
		case p != nil:
			pub = p
		default: // oct
			return ParseKey(jwkSecret(data), alg)
		}
	default:
		secret, err := decodeSecret(data)
		if err != nil {
			return Key{}, err
		}
		if alg == "" {
			alg = HMACSHA256
		}
		k := Key{Algorithm: alg, Secret: secret}
		return k, checkKey(k)
	}
	if alg == "" {
		alg = defaultAlg(pub)
	}
	k := Key{Algorithm: alg, Public: pub}
	return k, checkKey(k)
}

// ParseSigningKey reads a signing key: a PEM private key (PKCS #8,
// including RSA keys marked id-RSASSA-PSS, which Go's x509 refuses;
// PKCS #1; SEC 1), a private JWK, or a base64 shared secret. alg as in
// ParseKey.
func ParseSigningKey(data []byte, alg Algorithm) (SigningKey, error) {
	data = bytes.TrimSpace(data)
	var priv crypto.Signer
	switch {
	case bytes.HasPrefix(data, []byte("-----BEGIN")):
		block, _ := pem.Decode(data)
		if block == nil {
			return SigningKey{}, errors.New("httpsig: key: malformed PEM")
		}
		var k any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				k, err = parsePSSPrivateKey(block.Bytes, err)
			}
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			return SigningKey{}, fmt.Errorf("httpsig: key: PEM type %q is not a private key", block.Type)
		}
		if err != nil {
			return SigningKey{}, fmt.Errorf("httpsig: key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return SigningKey{}, errors.New("httpsig: key: unsupported private key type")
		}
		priv = s
	case bytes.HasPrefix(data, []byte("{")):
		s, pub, err := parseJWK(data)
		if err != nil {
			return SigningKey{}, err
		}
		if s == nil && pub != nil {
			return SigningKey{}, errors.New("httpsig: key: the JWK has no private part")
		}
		if s == nil {
			return ParseSigningKey(jwkSecret(data), alg)
		}
		priv = s
	default:
		secret, err := decodeSecret(data)
		if err != nil {
			return SigningKey{}, err
		}
		k := withAlg(SigningKey{Secret: secret}, alg)
		if k.Algorithm == "" {
			k.Algorithm = HMACSHA256
		}
		return k, checkKey(k.Public())
	}
	k := withAlg(SigningKey{Private: priv}, alg)
	return k, checkKey(k.Public())
}

func withAlg(k SigningKey, alg Algorithm) SigningKey {
	k.Algorithm = alg
	if alg == "" && k.Private != nil {
		k.Algorithm = defaultAlg(k.Private.Public())
	}
	return k
}

func defaultAlg(pub crypto.PublicKey) Algorithm {
	switch pub.(type) {
	case ed25519.PublicKey:
		return Ed25519
	case *ecdsa.PublicKey:
		return ECDSAP256SHA256
	case *rsa.PublicKey:
		return RSAPSSSHA512
	}
	return ""
}

func checkKey(k Key) error {
	if err := k.check(); err != nil {
		return fmt.Errorf("httpsig: key: %v", err)
	}
	return nil
}

// decodeSecret reads a base64 (standard or URL alphabet, padded or not)
// shared secret.
func decodeSecret(data []byte) ([]byte, error) {
	s := strings.TrimRight(string(data), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("httpsig: key: neither PEM, JWK nor a base64 secret")
}

// oidRSASSAPSS is id-RSASSA-PSS (RFC 4055 §3.1).
var oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}

// parsePSSPrivateKey reads a PKCS #8 RSA key whose algorithm is
// id-RSASSA-PSS (as RFC 9421's test-key-rsa-pss is): its inner key is a
// PKCS #1 RSAPrivateKey. orig is returned for any other key.
func parsePSSPrivateKey(der []byte, orig error) (any, error) {
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &p8); err != nil || len(rest) > 0 || !p8.Algo.Algorithm.Equal(oidRSASSAPSS) {
		return nil, orig
	}
	return x509.ParsePKCS1PrivateKey(p8.PrivateKey)
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	N   string `json:"n"`
	E   string `json:"e"`
	P   string `json:"p"`
	Q   string `json:"q"`
	K   string `json:"k"`
}

func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// parseJWK reads an OKP (Ed25519), EC (P-256) or RSA JWK (RFC 7517,
// RFC 8037): the private key when it has one, else the public key; both
// nil for an oct key.
func parseJWK(data []byte) (crypto.Signer, crypto.PublicKey, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, nil, fmt.Errorf("httpsig: key: JWK: %w", err)
	}
	bad := func(what string) error { return fmt.Errorf("httpsig: key: JWK: %s", what) }
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		x, err := b64url(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, nil, bad("bad x")
		}
		if j.D == "" {
			return nil, ed25519.PublicKey(x), nil
		}
		d, err := b64url(j.D)
		if err != nil || len(d) != ed25519.SeedSize {
			return nil, nil, bad("bad d")
		}
		priv := ed25519.NewKeyFromSeed(d)
		if !bytes.Equal(priv.Public().(ed25519.PublicKey), x) {
			return nil, nil, bad("d does not match x")
		}
		return priv, nil, nil
	case j.Kty == "EC" && j.Crv == "P-256":
		x, errX := b64url(j.X)
		y, errY := b64url(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, nil, bad("bad x or y")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, nil, bad("the point is not on P-256")
		}
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := b64url(j.D)
		if err != nil {
			return nil, nil, bad("bad d")
		}
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
		if err != nil || !priv.PublicKey.Equal(pub) {
			return nil, nil, bad("d does not match x and y")
		}
		return priv, nil, nil
	case j.Kty == "RSA":
		n, errN := b64url(j.N)
		e, errE := b64url(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return nil, nil, bad("bad n or e")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if j.D == "" {
			return nil, pub, nil
		}
		d, errD := b64url(j.D)
		p, errP := b64url(j.P)
		q, errQ := b64url(j.Q)
		if errD != nil || errP != nil || errQ != nil {
			return nil, nil, bad("bad d, p or q")
		}
		priv := &rsa.PrivateKey{PublicKey: *pub, D: new(big.Int).SetBytes(d),
			Primes: []*big.Int{new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)}}
		if err := priv.Validate(); err != nil {
			return nil, nil, bad("inconsistent RSA key")
		}
		priv.Precompute()
		return priv, nil, nil
	case j.Kty == "oct":
		return nil, nil, nil
	}
	return nil, nil, bad(fmt.Sprintf("unsupported key type %q %q", j.Kty, j.Crv))
}

// jwkSecret returns an oct JWK's k as base64 text for decodeSecret.
func jwkSecret(data []byte) []byte {
	var j jwk
	_ = json.Unmarshal(data, &j)
	if j.K == "" {
		return []byte("!") // not base64: refused
	}
	return []byte(j.K)
}
