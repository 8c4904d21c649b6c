package apikey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every credential, so that secret scanners (and people)
// recognise a leaked one.
const Prefix = "dbk_"

// MinPepperBytes is the shortest pepper accepted.
const MinPepperBytes = 32

// maxIDLen bounds an id: it is logged and forwarded.
const maxIDLen = 64

// secretLen is the length of an encoded secret: 32 bytes, base64url.
var secretLen = base64.RawURLEncoding.EncodedLen(32)

// Credential is a parsed API key: the id it claims and its secret.
type Credential struct {
	ID, Secret string
}

// ValidID reports whether id can name a key: 1 to 64 of a-z, 0-9 and '-'.
// No '_', so that a credential splits at its first '_' after the prefix.
func ValidID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// NewID returns a random id: "k" and 16 hex digits.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "k" + hex.EncodeToString(b[:])
}

// New returns a fresh credential for id: the only time the secret exists
// in the clear.
func New(id string) (Credential, error) {
	if !ValidID(id) {
		return Credential{}, fmt.Errorf("apikey: id %q is not 1 to 64 of a-z, 0-9 and '-'", id)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Credential{}, err
	}
	return Credential{ID: id, Secret: base64.RawURLEncoding.EncodeToString(b[:])}, nil
}

// String is the credential as clients send it.
func (c Credential) String() string { return Prefix + c.ID + "_" + c.Secret }

var errMalformed = errors.New("apikey: not a drawbridge API key (dbk_<id>_<secret>)")

// Parse reads a credential. It only checks the shape; Verifier checks the
// secret.
func Parse(s string) (Credential, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Credential{}, errMalformed
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || !ValidID(id) || len(secret) != secretLen {
		return Credential{}, errMalformed
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil {
		return Credential{}, errMalformed
	}
	return Credential{ID: id, Secret: secret}, nil
}

// Hasher computes the keyed hash stored for a secret.
type Hasher struct {
	pepper []byte
}

// NewHasher returns a Hasher keyed with pepper, at least MinPepperBytes
// long.
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < MinPepperBytes {
		return nil, fmt.Errorf("apikey: the pepper must have at least %d bytes, got %d", MinPepperBytes, len(pepper))
	}
	return &Hasher{pepper: append([]byte(nil), pepper...)}, nil
}

// Hash returns HMAC-SHA-256(pepper, secret). The id is not hashed: it is
// not secret, and keeping it out lets a key be rotated under one id.
func (h *Hasher) Hash(secret string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(secret))
	return m.Sum(nil)
}
