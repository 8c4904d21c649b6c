package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Defaults of a zero Verifier.
const (
	// DefaultMaxAge is how old a proof's iat may be.
	DefaultMaxAge = 60 * time.Second
	// DefaultSkew is how far ahead of the verifier's clock iat may be:
	// phones' clocks drift.
	DefaultSkew = 60 * time.Second
	// MaxJTIBytes bounds the jti. RFC 9449 §4.2 asks for 96 random bits;
	// 256 bytes leaves room for any encoding of them and no more.
	MaxJTIBytes = 256
)

// DefaultAlgorithms are the algorithms a Verifier with nil Algorithms
// accepts: what phones' key stores (Secure Enclave, Android Keystore) and
// WebCrypto sign with.
var DefaultAlgorithms = []string{"ES256", "EdDSA"}

// asymmetric are the JWS algorithms a proof may use: its key is public,
// so a MAC is meaningless.
var asymmetric = []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// ReplayGuard makes jti values single-use. The store's hot backends
// implement it (store.Hot).
type ReplayGuard interface {
	// Claim marks key as used for ttl and reports true for exactly one
	// caller per key and ttl window.
	Claim(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// Verifier checks DPoP proofs. Its zero value accepts ES256 and EdDSA
// proofs whose iat is within a minute either way of the clock, without
// server nonces and without a replay guard (set one: a proof replayed
// within its window then passes). It is safe for concurrent use.
type Verifier struct {
	// Algorithms is the allow-list (asymmetric JWS algorithms). If nil,
	// DefaultAlgorithms.
	Algorithms []string
	// MaxAge is how old iat may be. If zero, DefaultMaxAge.
	MaxAge time.Duration
	// Skew is how far iat may be ahead of the clock. If zero,
	// DefaultSkew; if negative, none.
	Skew time.Duration
	// MaxProofBytes caps a proof. If zero, token.DefaultMaxSelfSignedBytes.
	MaxProofBytes int
	// Nonces, if set, requires proofs to carry a nonce it issued.
	Nonces *Nonces
	// ReplayGuard, if set, accepts each key's jti once, for as long as
	// the proof could be accepted.
	ReplayGuard ReplayGuard
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
}

// Request is what a proof must match.
type Request struct {
	// Method is the request's method, compared exactly with htm.
	Method string
	// URI is the request's URI as the client addressed it: the public
	// scheme and authority, and the path as sent. Its query and fragment
	// are ignored (RFC 9449 §4.3 check 9).
	URI string
	// Proofs are the values of the request's DPoP fields; there must be
	// exactly one.
	Proofs []string
	// AccessToken is the access token the request presents, if any: the
	// proof's ath must then be its hash.
	AccessToken string
	// BoundKeys are the RFC 7638 thumbprints the credentials of the
	// request are bound to (cnf.jkt); the proof's key must have every one.
	BoundKeys []string
}

// Proof is a verified proof.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the proof's key.
	JKT string
	// Key is the proof's public key.
	Key *token.Key
	// Alg is the proof's algorithm.
	Alg string
	// JTI is the proof's unique id.
	JTI string
	// IssuedAt is iat.
	IssuedAt time.Time
	// NonceAge is how old the proof's server nonce is; zero without
	// Nonces.
	NonceAge time.Duration
}

// Validate reports a configuration no proof can pass.
func (v *Verifier) Validate() error {
	var errs []error
	for _, a := range v.Algorithms {
		if !slices.Contains(asymmetric, a) {
			errs = append(errs, fmt.Errorf("dpop: algorithm %q is not an asymmetric JWS algorithm", a))
		}
	}
	if v.Algorithms != nil && len(v.Algorithms) == 0 {
		errs = append(errs, errors.New("dpop: empty algorithm list"))
	}
	if v.MaxAge < 0 {
		errs = append(errs, errors.New("dpop: negative maximum age"))
	}
	if v.Nonces != nil {
		errs = append(errs, v.Nonces.Validate())
	}
	return errors.Join(errs...)
}

// AlgorithmList returns the algorithms accepted, for a WWW-Authenticate
// challenge's algs parameter (RFC 9449 §7.1).
func (v *Verifier) AlgorithmList() []string {
	if v.Algorithms == nil {
		return DefaultAlgorithms
	}
	return v.Algorithms
}

// Verify checks the request's proof and returns it, or an *Error whose
// Reason is the first check that failed (see the package doc).
func (v *Verifier) Verify(ctx context.Context, r Request) (*Proof, error) {
	switch {
	case len(r.Proofs) == 0 || r.Proofs[0] == "":
		return nil, fail(ReasonMissing, "the request has no DPoP proof")
	case len(r.Proofs) > 1:
		return nil, fail(ReasonMalformed, "the request has more than one DPoP field")
	}
	jws, err := token.VerifySelfSigned(r.Proofs[0], token.SelfSignedOptions{
		Algorithms: v.AlgorithmList(), Type: "dpop+jwt", MaxBytes: v.MaxProofBytes,
	})
	if err != nil {
		return nil, &Error{Reason: jwsReason(err), Detail: "the proof's JWS is refused", Err: err}
	}
	c := jws.Claims
	htm, _ := c.String("htm")
	htu, _ := c.String("htu")
	switch {
	case c.ID == "" || htm == "" || htu == "" || c.IssuedAt.IsZero():
		return nil, fail(ReasonMissingClaim, "jti, htm, htu and iat are required")
	case len(c.ID) > MaxJTIBytes:
		return nil, fail(ReasonMalformed, "jti is longer than %d bytes", MaxJTIBytes)
	}
	p := &Proof{JKT: jws.Thumbprint, Key: jws.Key, Alg: jws.Alg, JTI: c.ID, IssuedAt: c.IssuedAt}
	if htm != r.Method {
		return nil, fail(ReasonMethodMismatch, "htm is not the request's method")
	}
	if err := matchURI(htu, r.URI); err != nil {
		return nil, err
	}
	now := v.now()
	if v.Nonces != nil {
		nonce, _ := c.String("nonce")
		age, ok := v.Nonces.Age(nonce)
		if !ok {
			return nil, fail(ReasonUseNonce, "the proof has no nonce, or one this server did not issue or that expired")
		}
		p.NonceAge = age
	}
	deadline, err := v.checkTime(c.IssuedAt, now)
	if err != nil {
		return nil, err
	}
	if r.AccessToken != "" {
		ath, _ := c.String("ath")
		sum := sha256.Sum256([]byte(r.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(ath), []byte(want)) != 1 {
			return nil, fail(ReasonAthMismatch, "ath is absent or not the hash of the access token")
		}
	}
	for _, k := range r.BoundKeys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(p.JKT)) != 1 {
			return nil, fail(ReasonKeyMismatch, "the proof's key is not the key the credential is bound to")
		}
	}
	if v.ReplayGuard != nil {
		if err := v.claim(ctx, p, now, deadline); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// NewNonce returns a fresh server nonce, or "" without Nonces.
func (v *Verifier) NewNonce() string {
	if v.Nonces == nil {
		return ""
	}
	return v.Nonces.Issue()
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// matchURI compares htu with the request's URI, both normalised.
func matchURI(htu, uri string) error {
	want, err := NormalizeURI(uri)
	if err != nil {
		return &Error{Reason: ReasonURIMismatch, Detail: "the request's URI cannot be normalised", Err: err}
	}
	got, err := NormalizeURI(htu)
	if err != nil || got != want {
		return fail(ReasonURIMismatch, "htu is not the request's URI")
	}
	return nil
}

// checkTime applies the iat window and returns the time after which the
// proof would no longer be accepted.
func (v *Verifier) checkTime(iat, now time.Time) (time.Time, error) {
	skew := v.Skew
	switch {
	case skew == 0:
		skew = DefaultSkew
	case skew < 0:
		skew = 0
	}
	maxAge := v.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if iat.After(now.Add(skew)) {
		return time.Time{}, fail(ReasonIATInFuture, "iat is %s ahead of the verifier's clock", iat.Sub(now).Round(time.Second))
	}
	end := iat.Add(maxAge)
	if now.After(end) {
		return time.Time{}, fail(ReasonTooOld, "iat is %s old, more than %s", now.Sub(iat).Round(time.Second), maxAge)
	}
	return end, nil
}

// claim records the jti until the proof's deadline. The key is the
// proof's key thumbprint and a hash of the jti: one client cannot burn
// another's jti values, and a long jti costs the store no more than a
// short one.
func (v *Verifier) claim(ctx context.Context, p *Proof, now, deadline time.Time) error {
	ttl := max(deadline.Sub(now)+time.Second, time.Second)
	sum := sha256.Sum256([]byte(p.JTI))
	key := "dpop-jti:" + p.JKT + ":" + base64.RawURLEncoding.EncodeToString(sum[:])
	first, err := v.ReplayGuard.Claim(ctx, key, ttl)
	if err != nil {
		return &Error{Reason: ReasonUnavailable, Detail: "claiming the jti", Err: err}
	}
	if !first {
		return fail(ReasonReplayed, "the jti was used before")
	}
	return nil
}
