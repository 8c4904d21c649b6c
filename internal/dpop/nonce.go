package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// DefaultNonceLifetime is how long a server nonce is accepted when
// Nonces.Lifetime is zero.
const DefaultNonceLifetime = 5 * time.Minute

// nonceMACBytes is the truncated MAC length: 128 bits.
const nonceMACBytes = 16

// Nonces issues and checks DPoP server nonces (RFC 9449 §8, §9), which
// bound how long before its use a proof can have been made: a client that
// pre-computed proofs on a device it no longer controls cannot use them
// once the nonces they carry expire. A nonce holds the time it was issued
// and a MAC of that time, so checking it needs no state, and every node
// that shares the secret accepts every node's nonces. A nonce is not
// single-use (the proof's jti is): any client may use it until it
// expires.
type Nonces struct {
	// Secret keys the MAC: at least 32 bytes, shared by the nodes of a
	// deployment. Required.
	Secret []byte
	// Lifetime is how long a nonce is accepted after it was issued. If
	// zero, DefaultNonceLifetime.
	Lifetime time.Duration
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
}

// NewSecret returns 32 random bytes, for a single node's nonces.
func NewSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// Validate reports a configuration no nonce can be checked with.
func (n *Nonces) Validate() error {
	if len(n.Secret) < 32 {
		return errors.New("dpop: the nonce secret must have at least 32 bytes")
	}
	if n.Lifetime < 0 {
		return errors.New("dpop: negative nonce lifetime")
	}
	return nil
}

func (n *Nonces) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Nonces) lifetime() time.Duration {
	if n.Lifetime > 0 {
		return n.Lifetime
	}
	return DefaultNonceLifetime
}

// Issue returns a fresh nonce: base64url of the issue time (Unix
// milliseconds, 8 bytes) and its MAC.
func (n *Nonces) Issue() string {
	var b [8 + nonceMACBytes]byte
	binary.BigEndian.PutUint64(b[:8], uint64(n.now().UnixMilli()))
	copy(b[8:], n.mac(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Age returns how long ago the nonce was issued, and false when it was
// not issued with this secret, is malformed, or has expired.
func (n *Nonces) Age(nonce string) (time.Duration, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(b) != 8+nonceMACBytes {
		return 0, false
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return 0, false
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8])))
	age := n.now().Sub(issued)
	// A nonce from the future is one a node with a fast clock issued; it
	// is accepted as new, up to the lifetime.
	if age > n.lifetime() || age < -n.lifetime() {
		return 0, false
	}
	return max(age, 0), true
}

func (n *Nonces) mac(ts []byte) []byte {
	m := hmac.New(sha256.New, n.Secret)
	m.Write([]byte("drawbridge dpop nonce\x00"))
	m.Write(ts)
	return m.Sum(nil)[:nonceMACBytes]
}
