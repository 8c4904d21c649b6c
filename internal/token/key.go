package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Key is one verification or decryption key: its material and what it
// may be used for. Keys are immutable once built.
type Key struct {
	kid, alg, use string
	kty, crv      string
	pub           crypto.PublicKey  // RSA, EC, OKP
	secret        []byte            // oct
	priv          crypto.PrivateKey // only for decryption keys and signers
	thumb         string            // identity of the material (RFC 7638 for JWKs)
}

// KID returns the key ID ("" if none).
func (k *Key) KID() string { return k.kid }

// Alg returns the algorithm the key declares ("" if none).
func (k *Key) Alg() string { return k.alg }

// Type returns the key type: RSA, EC, OKP or oct.
func (k *Key) Type() string { return k.kty }

// Public returns the public key, or nil for a symmetric key.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// HasPrivate reports whether the key holds private or secret material.
func (k *Key) HasPrivate() bool { return k.priv != nil || k.secret != nil }

// Limits on key sets from files and URLs.
const (
	maxKIDLen   = 128
	maxSetKeys  = 100
	minRSABits  = 2048
	maxRSABits  = 8192
	maxKeyBytes = 1 << 20
)

// checkKID refuses key IDs that could mean something to another system:
// a kid is compared as an exact string and used nowhere else (no file,
// query or command), but it is also logged and forwarded, so control
// characters, path characters and quotes are refused outright.
func checkKID(kid string) error {
	if kid == "" || len(kid) > maxKIDLen {
		return newError(ReasonBadKID, "kid is empty or too long")
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if c < 0x21 || c > 0x7e || c == '/' || c == '\\' || c == '"' || c == '\'' || c == '`' || c == '|' || c == ';' || c == '$' || c == '<' || c == '>' {
			return newError(ReasonBadKID, "kid has characters that are not allowed")
		}
		if c == '.' && i+1 < len(kid) && kid[i+1] == '.' {
			return newError(ReasonBadKID, "kid has a dot segment")
		}
	}
	return nil
}

// NewKey wraps Go key material: *ecdsa.PublicKey or *PrivateKey,
// ed25519.PublicKey or PrivateKey, *rsa.PublicKey or *PrivateKey, or a
// []byte secret. alg, if not empty, is the only algorithm it may be used
// with; PASETO keys must name theirs (v4.public, v4.local).
func NewKey(material any, kid, alg string) (*Key, error) {
	k := &Key{kid: kid, alg: alg}
	switch m := material.(type) {
	case *ecdsa.PrivateKey:
		k.priv, k.pub = m, &m.PublicKey
	case *ecdsa.PublicKey:
		k.pub = m
	case ed25519.PrivateKey:
		if len(m) != ed25519.PrivateKeySize {
			return nil, errors.New("token: bad Ed25519 private key size")
		}
		k.priv, k.pub = m, m.Public()
	case ed25519.PublicKey:
		k.pub = m
	case *rsa.PrivateKey:
		k.priv, k.pub = m, &m.PublicKey
	case *rsa.PublicKey:
		k.pub = m
	case []byte:
		k.secret = append([]byte(nil), m...)
	default:
		return nil, fmt.Errorf("token: unsupported key type %T", material)
	}
	if err := k.complete(); err != nil {
		return nil, err
	}
	return k, nil
}

// complete fills kty and crv from the material and checks the key.
func (k *Key) complete() error {
	switch p := k.pub.(type) {
	case *ecdsa.PublicKey:
		k.kty = "EC"
		switch p.Curve {
		case elliptic.P256():
			k.crv = "P-256"
		case elliptic.P384():
			k.crv = "P-384"
		case elliptic.P521():
			k.crv = "P-521"
		default:
			return errors.New("token: EC keys must be on P-256, P-384 or P-521")
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return errors.New("token: bad Ed25519 public key size")
		}
		k.kty, k.crv = "OKP", "Ed25519"
	case *rsa.PublicKey:
		k.kty = "RSA"
		if b := p.N.BitLen(); b < minRSABits || b > maxRSABits {
			return fmt.Errorf("token: RSA keys must have %d to %d bits, this one has %d", minRSABits, maxRSABits, b)
		}
	case nil:
		if k.secret == nil {
			return errors.New("token: no key material")
		}
		k.kty = "oct"
		if len(k.secret) < 16 {
			// RFC 7518 §3.2; an empty or short secret is a guessable one.
			return errors.New("token: symmetric keys must have at least 16 bytes")
		}
	}
	if k.kid != "" {
		if err := checkKID(k.kid); err != nil {
			return errors.New("token: key kid is empty, too long or has characters that are not allowed")
		}
	}
	if k.alg != "" {
		if err := k.checkAlg(); err != nil {
			return err
		}
	} else if k.kty == "oct" && len(k.secret) < 32 {
		return errors.New("token: a symmetric key shorter than 32 bytes must declare its alg")
	}
	switch k.use {
	case "", "sig", "enc":
	default:
		return fmt.Errorf("token: key use must be sig or enc, got %q", k.use)
	}
	if k.thumb == "" {
		sum := sha256.New()
		sum.Write([]byte(k.kty + "|" + k.crv + "|" + k.kid + "|" + k.alg + "|"))
		switch {
		case k.secret != nil:
			sum.Write(k.secret)
		default:
			der, err := x509.MarshalPKIXPublicKey(k.pub)
			if err != nil {
				return fmt.Errorf("token: %v", err)
			}
			sum.Write(der)
		}
		k.thumb = string(sum.Sum(nil))
	}
	return nil
}

func (k *Key) checkAlg() error {
	if info, ok := algs[k.alg]; ok {
		if info.kty != k.kty || info.crv != k.crv {
			return fmt.Errorf("token: a %s key cannot declare alg %s", k.kty, k.alg)
		}
		if k.kty == "oct" && (len(k.secret) < info.minKey || (info.exact != 0 && len(k.secret) != info.exact)) {
			return fmt.Errorf("token: a %s key needs at least %d bytes", k.alg, max(info.minKey, info.exact))
		}
		return nil
	}
	if _, ok := jweKeyAlgs[k.alg]; ok {
		return nil
	}
	if n, ok := jweEncs[k.alg]; ok && k.kty == "oct" && len(k.secret) == n {
		return nil // a dir key named by its content encryption (RFC 7520 §5.6)
	}
	return fmt.Errorf("token: unknown or refused key alg %q", k.alg)
}

// KeySet is an immutable set of keys. It is also a KeySource of itself.
type KeySet struct {
	keys []*Key
	gen  uint64 // which version of its source this is
}

// NewKeySet returns a set of the given keys.
func NewKeySet(keys ...*Key) *KeySet { return &KeySet{keys: keys} }

// Keys returns the keys of the set.
func (s *KeySet) Keys() []*Key { return s.keys }

// Len is the number of keys.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

func (s *KeySet) current() *KeySet                      { return s }
func (s *KeySet) refetch(context.Context) *KeySet       { return s }
func (s *KeySet) lookup(kid string, hasKID bool) []*Key { return lookupKeys(s, kid, hasKID) }

func lookupKeys(s *KeySet, kid string, hasKID bool) []*Key {
	if s == nil {
		return nil
	}
	var out []*Key
	for _, k := range s.keys {
		if !hasKID || k.kid == kid {
			out = append(out, k)
		}
	}
	return out
}

// KeySource supplies an issuer's keys: a *KeySet (from a file) or a
// *RemoteKeySet (a JWKS URL or OIDC discovery).
type KeySource interface {
	// current returns the keys in force; never nil.
	current() *KeySet
	// refetch is asked for after an unknown kid; it may fetch, at most
	// once per interval, and returns the keys then in force.
	refetch(ctx context.Context) *KeySet
}

// ParseJWK parses one JSON Web Key (RFC 7517 §4) strictly: no member
// twice, known kty and curve, RSA keys of 2048 bits or more, symmetric
// keys of 16 bytes or more.
func ParseJWK(b []byte) (*Key, error) {
	m, err := parseObject(b)
	if err != nil {
		return nil, errors.New("token: a JWK is not a JSON object with distinct member names")
	}
	return jwkFromMap(b, m)
}

func jwkFromMap(raw []byte, m map[string]any) (*Key, error) {
	for _, member := range []string{"kid", "alg", "use", "kty"} {
		if v, ok := m[member]; ok {
			if _, isString := v.(string); !isString {
				return nil, fmt.Errorf("token: JWK member %s must be a string", member)
			}
		}
	}
	if ops, ok := m["key_ops"]; ok {
		if _, isArr := ops.([]any); !isArr {
			return nil, errors.New("token: JWK key_ops must be an array")
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("token: bad JWK: %s", strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
	}
	k, err := NewKey(jwk.Key, jwk.KeyID, jwk.Algorithm)
	if err != nil {
		return nil, err
	}
	k.use = jwk.Use
	if err := k.complete(); err != nil {
		return nil, err
	}
	return k, nil
}

// ParseJWKS parses a JWK Set (RFC 7517 §5) strictly. Private material is
// kept (decryption keys are read this way); verification uses only the
// public half.
func ParseJWKS(b []byte) (*KeySet, error) {
	if len(b) > maxKeyBytes {
		return nil, errors.New("token: JWKS larger than 1 MiB")
	}
	m, err := parseObject(b)
	if err != nil {
		return nil, errors.New("token: a JWKS is not a JSON object with distinct member names")
	}
	raw, ok := m["keys"].([]any)
	if !ok {
		return nil, errors.New(`token: a JWKS needs a "keys" array`)
	}
	if len(raw) > maxSetKeys {
		return nil, fmt.Errorf("token: a JWKS may hold at most %d keys", maxSetKeys)
	}
	set := &KeySet{}
	for i, r := range raw {
		km, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("token: keys[%d] is not an object", i)
		}
		b, _ := json.Marshal(km)
		k, err := jwkFromMap(b, km)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		set.keys = append(set.keys, k)
	}
	return set, nil
}

// ParseKeys reads the key formats an operator hands the gateway or the
// CLI: a JWKS, one JWK, PEM (public keys, PKCS#8, SEC 1 and PKCS#1
// private keys), or a PASERK (k4.local., k4.public., k4.secret.). PEM
// keys declare no alg; PASERKs declare v4.local or v4.public.
func ParseKeys(b []byte) (*KeySet, error) {
	s := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(s, "{"):
		m, err := parseObject([]byte(s))
		if err != nil {
			return nil, errors.New("token: key file is not a JSON object with distinct member names")
		}
		if _, ok := m["keys"]; ok {
			return ParseJWKS([]byte(s))
		}
		k, err := jwkFromMap([]byte(s), m)
		if err != nil {
			return nil, err
		}
		return NewKeySet(k), nil
	case strings.HasPrefix(s, "k4."):
		k, err := parsePASERK(s)
		if err != nil {
			return nil, err
		}
		return NewKeySet(k), nil
	case strings.HasPrefix(s, "-----BEGIN"):
		return parsePEMKeys([]byte(s))
	}
	return nil, errors.New("token: want a JWKS, a JWK, PEM or a PASERK (k4.local./k4.public./k4.secret.)")
}

func parsePEMKeys(b []byte) (*KeySet, error) {
	set := &KeySet{}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		var material any
		var err error
		switch blk.Type {
		case "PUBLIC KEY":
			material, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "PRIVATE KEY":
			material, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			material, err = x509.ParseECPrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			material, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "RSA PUBLIC KEY":
			material, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		default:
			return nil, fmt.Errorf("token: unsupported PEM block %q", blk.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("token: PEM %s: %v", blk.Type, err)
		}
		if e, ok := material.(ed25519.PrivateKey); ok {
			material = e
		}
		k, err := NewKey(material, "", "")
		if err != nil {
			return nil, err
		}
		set.keys = append(set.keys, k)
	}
	if len(set.keys) == 0 {
		return nil, errors.New("token: no PEM key found")
	}
	return set, nil
}

// Thumbprint returns the RFC 7638 thumbprint (base64url SHA-256) of an
// asymmetric key's public part.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j := jose.JSONWebKey{Key: pub}
	t, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("token: %v", err)
	}
	return b64.EncodeToString(t), nil
}

// Private returns the private key, if the key holds one.
func (k *Key) Private() crypto.PrivateKey { return k.priv }
