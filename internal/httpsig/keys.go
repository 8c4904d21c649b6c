package httpsig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Algorithm is an HTTP signature algorithm (RFC 9421 §3.3).
type Algorithm string

// Algorithms this package signs and verifies.
const (
	HMACSHA256      Algorithm = "hmac-sha256"       // §3.3.3
	Ed25519         Algorithm = "ed25519"           // §3.3.6
	ECDSAP256SHA256 Algorithm = "ecdsa-p256-sha256" // §3.3.4, r||s, 64 bytes
	RSAPSSSHA512    Algorithm = "rsa-pss-sha512"    // §3.3.1
	// RSAV15SHA256 (§3.3.2) is verified only when a Verifier lists it:
	// PKCS #1 v1.5 is kept for old clients, not offered by default.
	RSAV15SHA256 Algorithm = "rsa-v1_5-sha256"
)

// defaultAlgorithms are the algorithms a Verifier with no Algorithms
// accepts. Unexported, so no caller can widen every verifier at once.
var defaultAlgorithms = []Algorithm{HMACSHA256, Ed25519, ECDSAP256SHA256, RSAPSSSHA512}

// Minimum key sizes.
const (
	minHMACKeyBytes = 32   // the hash's output size (RFC 2104 §3)
	minRSABits      = 2048 // NIST SP 800-131A
)

// Key is a verification key and the one algorithm it may be used with.
// Binding the algorithm to the key, not taking it from the message, is
// what stops an attacker choosing how a signature is checked (RFC 9421
// §7.3.6): an RSA public key is never used as an HMAC secret.
type Key struct {
	// Algorithm is the only algorithm the key verifies.
	Algorithm Algorithm
	// Public is the public key: ed25519.PublicKey, *ecdsa.PublicKey (P-256)
	// or *rsa.PublicKey. Unused for HMAC.
	Public crypto.PublicKey
	// Secret is the HMAC shared secret, at least 32 bytes.
	Secret []byte
}

// ErrUnknownKey is returned by a KeyResolver that does not know a keyid.
var ErrUnknownKey = errors.New("httpsig: unknown key")

// KeyResolver finds the key a signature names by its keyid parameter.
type KeyResolver interface {
	// ResolveKey returns the key for keyID, ErrUnknownKey (possibly
	// wrapped) if there is none, or another error if the lookup failed,
	// which refuses the signature as unavailable.
	ResolveKey(ctx context.Context, keyID string) (Key, error)
}

// KeyResolverFunc adapts a function to KeyResolver.
type KeyResolverFunc func(ctx context.Context, keyID string) (Key, error)

// ResolveKey calls f.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, keyID string) (Key, error) {
	return f(ctx, keyID)
}

// StaticKeys is a KeyResolver from a fixed map of keyid to key.
type StaticKeys map[string]Key

// ResolveKey returns the key for keyID or ErrUnknownKey.
func (s StaticKeys) ResolveKey(_ context.Context, keyID string) (Key, error) {
	k, ok := s[keyID]
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

var (
	_ KeyResolver = KeyResolverFunc(nil)
	_ KeyResolver = StaticKeys(nil)
)

// check reports whether the key material fits its algorithm.
func (k Key) check() error {
	switch k.Algorithm {
	case HMACSHA256:
		if len(k.Secret) < minHMACKeyBytes {
			return fmt.Errorf("HMAC secret shorter than %d bytes", minHMACKeyBytes)
		}
		return nil
	case Ed25519:
		if pub, ok := k.Public.(ed25519.PublicKey); ok && len(pub) == ed25519.PublicKeySize {
			return nil
		}
	case ECDSAP256SHA256:
		if pub, ok := k.Public.(*ecdsa.PublicKey); ok && pub.Curve == elliptic.P256() {
			return nil
		}
	case RSAPSSSHA512, RSAV15SHA256:
		if pub, ok := k.Public.(*rsa.PublicKey); ok {
			if pub.N.BitLen() < minRSABits {
				return fmt.Errorf("RSA key shorter than %d bits", minRSABits)
			}
			return nil
		}
	default:
		return fmt.Errorf("algorithm %q is not supported", k.Algorithm)
	}
	return fmt.Errorf("key is not a %s key", k.Algorithm)
}

// verify checks sig over base. It never says why a signature is invalid.
func (k Key) verify(base, sig []byte) bool {
	switch k.Algorithm {
	case HMACSHA256:
		mac := hmac.New(sha256.New, k.Secret)
		mac.Write(base)
		// hmac.Equal is constant-time; a truncated tag is refused.
		return len(sig) == sha256.Size && hmac.Equal(mac.Sum(nil), sig)
	case Ed25519:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.Public.(ed25519.PublicKey), base, sig)
	case ECDSAP256SHA256:
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256(base)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k.Public.(*ecdsa.PublicKey), h[:], r, s)
	case RSAPSSSHA512:
		h := sha512.Sum512(base)
		// RFC 9421 §3.3.1 signs with a 64-byte salt; any salt length
		// verifies, as with Go's default, because Node's crypto signs
		// with the longest salt. The salt length does not weaken PSS.
		return rsa.VerifyPSS(k.Public.(*rsa.PublicKey), crypto.SHA512, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case RSAV15SHA256:
		h := sha256.Sum256(base)
		return rsa.VerifyPKCS1v15(k.Public.(*rsa.PublicKey), crypto.SHA256, h[:], sig) == nil
	}
	return false
}

// SigningKey is a private key or shared secret and its algorithm.
type SigningKey struct {
	// Algorithm is the algorithm to sign with.
	Algorithm Algorithm
	// Private is ed25519.PrivateKey, *ecdsa.PrivateKey (P-256) or
	// *rsa.PrivateKey. Unused for HMAC.
	Private crypto.Signer
	// Secret is the HMAC shared secret, at least 32 bytes.
	Secret []byte
}

// Public returns the verification key of k.
func (k SigningKey) Public() Key {
	if k.Algorithm == HMACSHA256 {
		return Key{Algorithm: k.Algorithm, Secret: k.Secret}
	}
	if k.Private == nil {
		return Key{Algorithm: k.Algorithm}
	}
	return Key{Algorithm: k.Algorithm, Public: k.Private.Public()}
}

// sign signs base.
func (k SigningKey) sign(base []byte) ([]byte, error) {
	if err := k.Public().check(); err != nil {
		return nil, fmt.Errorf("httpsig: signing key: %v", err)
	}
	switch k.Algorithm {
	case HMACSHA256:
		mac := hmac.New(sha256.New, k.Secret)
		mac.Write(base)
		return mac.Sum(nil), nil
	case Ed25519:
		priv, ok := k.Private.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: signing key is not an ed25519.PrivateKey")
		}
		return ed25519.Sign(priv, base), nil
	case ECDSAP256SHA256:
		priv, ok := k.Private.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: signing key is not an *ecdsa.PrivateKey")
		}
		h := sha256.Sum256(base)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			return nil, fmt.Errorf("httpsig: signing: %w", err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case RSAPSSSHA512, RSAV15SHA256:
		priv, ok := k.Private.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: signing key is not an *rsa.PrivateKey")
		}
		if k.Algorithm == RSAV15SHA256 {
			h := sha256.Sum256(base)
			return rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
		}
		h := sha512.Sum512(base)
		return rsa.SignPSS(rand.Reader, priv, crypto.SHA512, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	return nil, fmt.Errorf("httpsig: algorithm %q is not supported", k.Algorithm)
}

func allowed(algs []Algorithm, a Algorithm) bool {
	if algs == nil {
		algs = defaultAlgorithms
	}
	return slices.Contains(algs, a)
}
