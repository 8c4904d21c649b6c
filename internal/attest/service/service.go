// Package service is the attestation service: it hands out single-use
// challenges, verifies the evidence an app returns (App Attest and its
// assertions, Android key attestation, Play Integrity, development
// attestation), records the device, and issues a short-lived attestation
// token bound to the app's request-signing key.
// docs/protocol.md is the contract with app developers; this package
// implements it and knows nothing of HTTP (the gateway serves it).
//
// # Why a service, and not just the verifiers
//
// A verifier says whether one piece of evidence is genuine. Whether it
// should be honoured depends on state the verifiers do not have: was the
// challenge it signs issued by us, for this app, and never used before;
// which signing key did this install register; has an assertion counter
// already been seen; did an operator revoke the install or block its
// version. The service holds that state in the stores (challenges in the
// hot store, devices and controls in the durable store), so that every
// gateway node sharing them makes the same decision.
//
// # Order of an exchange
//
//  1. The app must be configured, and the platform configured for it;
//     the reported app version must be short printable text.
//  2. The client data must have the one exact shape the protocol defines,
//     and its jkt must be the thumbprint of the signing key sent with it.
//  3. The challenge it names is consumed before the evidence is looked at,
//     so a failed attempt cannot be retried with the same challenge.
//  4. The evidence is verified by its format's package at the service's
//     clock, over SHA-256(client data). The format reports the
//     environment (production, development); the service judges it.
//  5. The environment, the version rules (of the config and of operators
//     at run time) and the revocations apply.
//  6. The device is recorded (or its assertion counter advanced,
//     atomically, in the durable store) and the token issued.
//
// The install id is the attested key's: the App Attest key id, or
// SHA-256 of the attested key's SPKI (Android, development). Play
// Integrity attests no key: its install is the request-signing key the
// verdict binds. A key registered once stays bound to its platform and
// signing key, and a revoked key stays revoked.
//
// # Failing closed
//
// Refusals are *Error values with a stable reason code: the service's own
// (attestation.*, see Reasons) or the evidence format's first failing
// check (appattest.nonce_mismatch, androidkey.unverified_boot, ...), with
// the verifier's whole Result attached for the log. A store that cannot
// be reached refuses the exchange (attestation.unavailable): a challenge
// that cannot be consumed, or a counter that cannot be stored, would
// otherwise be replayable. Error messages carry no secret (no token, no
// key material), only ids and reason codes.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// Reason codes of the service itself.
const (
	ReasonUnknownApp          = "attestation.unknown_app"
	ReasonPlatformNotAllowed  = "attestation.platform_not_allowed"
	ReasonBadRequest          = "attestation.bad_request"
	ReasonKeyMismatch         = "attestation.key_mismatch"
	ReasonChallengeInvalid    = "attestation.challenge_invalid"
	ReasonEnvironmentNotAllow = "attestation.environment_not_allowed"
	ReasonVersionBlocked      = "attestation.version_blocked"
	ReasonUnknownDevice       = "attestation.unknown_device"
	ReasonDeviceRevoked       = "attestation.device_revoked"
	ReasonUnavailable         = "attestation.unavailable"
)

// Reasons lists the service's own reason codes.
var Reasons = []string{
	ReasonUnknownApp, ReasonPlatformNotAllowed, ReasonBadRequest, ReasonKeyMismatch,
	ReasonChallengeInvalid, ReasonEnvironmentNotAllow, ReasonVersionBlocked,
	ReasonUnknownDevice, ReasonDeviceRevoked, ReasonUnavailable,
}

// Error is a refused request.
type Error struct {
	Code   string
	Msg    string
	Result *attest.Result // the verifier's verdict, when evidence was refused
	Err    error
}

func (e *Error) Error() string {
	msg := "attestation: " + e.Code
	if e.Msg != "" {
		msg += ": " + e.Msg
	}
	if e.Result != nil && len(e.Result.Reasons) > 1 {
		msg += fmt.Sprintf(" (all failed checks: %v)", e.Result.Reasons)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Reason returns the stable reason code.
func (e *Error) Reason() string { return e.Code }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// storeError turns a store failure into a refusal: unavailable stores
// fail closed.
func storeError(op string, err error) *Error {
	return &Error{Code: ReasonUnavailable, Msg: op, Err: err}
}

// DefaultTokenTTL is a token's lifetime when its App sets none.
const DefaultTokenTTL = 5 * time.Minute

// Options configure a Service.
type Options struct {
	// Apps are the apps the service vouches for, by id.
	Apps map[string]*App
	// Issuer signs the tokens. Required.
	Issuer *Issuer
	// Hot holds challenges. Required.
	Hot store.Hot
	// Devices is the device registry. Required.
	Devices store.Devices
	// Controls are the run-time controls. Required.
	Controls *Controls
	// ChallengeTTL is how long a challenge can be used. If zero, 2 minutes.
	ChallengeTTL time.Duration
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
}

// Service is the attestation service.
type Service struct {
	o Options
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Issuer == nil || o.Hot == nil || o.Devices == nil || o.Controls == nil {
		return nil, errors.New("attestation: issuer, hot store, device registry and controls are required")
	}
	if o.ChallengeTTL == 0 {
		o.ChallengeTTL = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}, nil
}

// Issuer returns the token issuer.
func (s *Service) Issuer() *Issuer { return s.o.Issuer }

// Challenge is a fresh single-use challenge.
type Challenge struct {
	Challenge string        `json:"challenge"`
	ExpiresIn time.Duration `json:"-"`
}

const challengePrefix = "challenge:"

// NewChallenge issues a challenge for app, usable once within the TTL.
func (s *Service) NewChallenge(ctx context.Context, app string) (Challenge, error) {
	if _, ok := s.o.Apps[app]; !ok {
		return Challenge{}, fail(ReasonUnknownApp, "no app %q", app)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Challenge{}, err
	}
	c := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.o.Hot.Put(ctx, challengePrefix+c, []byte(app), s.o.ChallengeTTL); err != nil {
		return Challenge{}, storeError("storing the challenge", err)
	}
	return Challenge{Challenge: c, ExpiresIn: s.o.ChallengeTTL}, nil
}

// consumeChallenge takes a challenge out of the store: it was issued, has
// not expired, was issued for app, and can never be used again.
func (s *Service) consumeChallenge(ctx context.Context, challenge, app string) error {
	v, ok, err := s.o.Hot.Take(ctx, challengePrefix+challenge)
	if err != nil {
		return storeError("taking the challenge", err)
	}
	if !ok {
		return fail(ReasonChallengeInvalid, "unknown, expired or already used challenge")
	}
	if string(v) != app {
		return fail(ReasonChallengeInvalid, "the challenge was issued for another app")
	}
	return nil
}

// Issued is a successful exchange.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
	InstallID string
	Facts     attest.Facts
}

// evidenceError wraps a verifier's refusal.
func evidenceError(r attest.Result) *Error {
	return &Error{Code: r.Reason, Msg: "evidence refused", Result: &r}
}

// clientDataHash is what every platform attests over.
func clientDataHash(cd []byte) []byte {
	h := sha256.Sum256(cd)
	return h[:]
}
