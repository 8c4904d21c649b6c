package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"strings"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20"
)

// PASETO v4 (https://github.com/paseto-standard/paseto-spec, version 4),
// built from vetted primitives only: crypto/ed25519 for v4.public,
// XChaCha20 (golang.org/x/crypto/chacha20) and keyed BLAKE2b
// (golang.org/x/crypto/blake2b) for v4.local, and the spec's PAE. No
// maintained Go PASETO v4 library can be had here, so these few lines
// follow the spec step by step and are held to all 17 official vectors.

const (
	pasetoLocalHeader  = "v4.local."
	pasetoPublicHeader = "v4.public."
	pasetoNonceSize    = 32
	pasetoTagSize      = 32
)

// pae is Pre-Authentication Encoding (PASETO spec, "PAE Definition"):
// LE64(count) || for each piece LE64(len) || piece, with the top bit of
// each LE64 cleared.
func pae(pieces ...[]byte) []byte {
	n := 8
	for _, p := range pieces {
		n += 8 + len(p)
	}
	out := make([]byte, 0, n)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(pieces))&^(1<<63))
	for _, p := range pieces {
		out = binary.LittleEndian.AppendUint64(out, uint64(len(p))&^(1<<63))
		out = append(out, p...)
	}
	return out
}

// pasetoLocalKeys derives the encryption key, XChaCha20 nonce and
// authentication key from the shared key and the token nonce (v4.local,
// steps 4-5 of Encrypt).
func pasetoLocalKeys(key, n []byte) (ek, n2, ak []byte) {
	h, _ := blake2b.New(56, key)
	h.Write([]byte("paseto-encryption-key"))
	h.Write(n)
	tmp := h.Sum(nil)
	a, _ := blake2b.New(32, key)
	a.Write([]byte("paseto-auth-key-for-aead"))
	a.Write(n)
	return tmp[:32], tmp[32:], a.Sum(nil)
}

// PASETOEncrypt returns a v4.local token of payload with footer and the
// implicit assertion, under a 32-byte key.
func PASETOEncrypt(key, payload, footer, implicit []byte) (string, error) {
	var n [pasetoNonceSize]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", err
	}
	return pasetoEncryptNonce(key, n[:], payload, footer, implicit)
}

func pasetoEncryptNonce(key, n, payload, footer, implicit []byte) (string, error) {
	if len(key) != 32 {
		return "", errors.New("token: v4.local keys have 32 bytes")
	}
	ek, n2, ak := pasetoLocalKeys(key, n)
	c := make([]byte, len(payload))
	s, err := chacha20.NewUnauthenticatedCipher(ek, n2)
	if err != nil {
		return "", err
	}
	s.XORKeyStream(c, payload)
	mac, _ := blake2b.New(pasetoTagSize, ak)
	mac.Write(pae([]byte(pasetoLocalHeader), n, c, footer, implicit))
	body := append(append(append([]byte(nil), n...), c...), mac.Sum(nil)...)
	return pasetoAssemble(pasetoLocalHeader, body, footer), nil
}

// PASETOSign returns a v4.public token of payload with footer and the
// implicit assertion.
func PASETOSign(priv ed25519.PrivateKey, payload, footer, implicit []byte) string {
	sig := ed25519.Sign(priv, pae([]byte(pasetoPublicHeader), payload, footer, implicit))
	return pasetoAssemble(pasetoPublicHeader, append(append([]byte(nil), payload...), sig...), footer)
}

func pasetoAssemble(h string, body, footer []byte) string {
	var b strings.Builder
	b.WriteString(h)
	b.WriteString(b64.EncodeToString(body))
	if len(footer) > 0 {
		b.WriteByte('.')
		b.WriteString(b64.EncodeToString(footer))
	}
	return b.String()
}

// pasetoToken is a split, decoded PASETO token.
type pasetoToken struct {
	purpose string // "local" or "public"
	body    []byte
	footer  []byte
}

// splitPASETO checks the version and purpose and decodes the parts
// strictly (the vectors 4-F-4 and 4-F-5: non-canonical trailing bits and
// padding are refused).
func splitPASETO(raw string) (*pasetoToken, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 && len(parts) != 4 {
		return nil, newError(ReasonMalformed, "a PASETO token has three or four parts")
	}
	if parts[0] != "v4" {
		return nil, newError(ReasonMalformed, "only PASETO v4 is supported")
	}
	if parts[1] != "local" && parts[1] != "public" {
		return nil, newError(ReasonMalformed, "the PASETO purpose is neither local nor public")
	}
	if len(parts) == 4 && parts[3] == "" {
		return nil, newError(ReasonMalformed, "an empty PASETO footer must be omitted")
	}
	t := &pasetoToken{purpose: parts[1]}
	var err error
	if t.body, err = decodeSegment(parts[2]); err != nil {
		return nil, err
	}
	if len(parts) == 4 {
		if t.footer, err = decodeSegment(parts[3]); err != nil {
			return nil, err
		}
	}
	min := ed25519.SignatureSize
	if t.purpose == "local" {
		min = pasetoNonceSize + pasetoTagSize
	}
	if len(t.body) < min {
		return nil, newError(ReasonMalformed, "the PASETO body is too short")
	}
	return t, nil
}

// open verifies (public) or decrypts (local) a split token with k, which
// fits its purpose, and returns the payload.
func (t *pasetoToken) open(k *Key, implicit []byte) ([]byte, error) {
	if t.purpose == "public" {
		pub, ok := k.pub.(ed25519.PublicKey)
		if !ok {
			return nil, newError(ReasonKeyMismatch, "not an Ed25519 key")
		}
		m, sig := t.body[:len(t.body)-ed25519.SignatureSize], t.body[len(t.body)-ed25519.SignatureSize:]
		if !ed25519.Verify(pub, pae([]byte(pasetoPublicHeader), m, t.footer, implicit), sig) {
			return nil, newError(ReasonBadSignature, "the PASETO signature does not verify")
		}
		return m, nil
	}
	if len(k.secret) != 32 {
		return nil, newError(ReasonKeyMismatch, "not a 32-byte v4.local key")
	}
	n := t.body[:pasetoNonceSize]
	c := t.body[pasetoNonceSize : len(t.body)-pasetoTagSize]
	tag := t.body[len(t.body)-pasetoTagSize:]
	ek, n2, ak := pasetoLocalKeys(k.secret, n)
	mac, _ := blake2b.New(pasetoTagSize, ak)
	mac.Write(pae([]byte(pasetoLocalHeader), n, c, t.footer, implicit))
	if subtle.ConstantTimeCompare(mac.Sum(nil), tag) != 1 {
		return nil, newError(ReasonDecrypt, "the PASETO token does not authenticate with the key")
	}
	s, err := chacha20.NewUnauthenticatedCipher(ek, n2)
	if err != nil {
		return nil, newError(ReasonDecrypt, "the PASETO token does not decrypt")
	}
	m := make([]byte, len(c))
	s.XORKeyStream(m, c)
	return m, nil
}

// parsePASERK reads k4.local, k4.public and k4.secret keys (PASERK).
func parsePASERK(s string) (*Key, error) {
	kind, data, ok := strings.Cut(strings.TrimPrefix(s, "k4."), ".")
	if !ok {
		return nil, errors.New("token: want k4.local., k4.public. or k4.secret.")
	}
	b, err := decodeSegment(data)
	if err != nil {
		return nil, errors.New("token: the PASERK is not canonical base64url")
	}
	switch {
	case kind == "local" && len(b) == 32:
		return NewKey(b, "", AlgPASETOLocal)
	case kind == "public" && len(b) == ed25519.PublicKeySize:
		return NewKey(ed25519.PublicKey(b), "", AlgPASETOPublic)
	case kind == "secret" && len(b) == ed25519.PrivateKeySize:
		return NewKey(ed25519.PrivateKey(b), "", AlgPASETOPublic)
	}
	return nil, errors.New("token: want k4.local. (32 bytes), k4.public. (32 bytes) or k4.secret. (64 bytes)")
}

// PASERK returns the PASERK form of a PASETO key: k4.local.… for a
// v4.local key, k4.public.… for a v4.public key.
func PASERK(k *Key) (string, error) {
	switch {
	case k.alg == AlgPASETOLocal:
		return "k4.local." + b64.EncodeToString(k.secret), nil
	case k.alg == AlgPASETOPublic:
		return "k4.public." + b64.EncodeToString(k.pub.(ed25519.PublicKey)), nil
	}
	return "", errors.New("token: not a PASETO key")
}
