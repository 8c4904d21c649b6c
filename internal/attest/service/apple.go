package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// AppleRequest is an App Attest attestation.
type AppleRequest struct {
	Request
	// KeyID is the App Attest key id (base64 as iOS prints it).
	KeyID string
	// Attestation is the attestation object (base64).
	Attestation string
}

// ExchangeApple verifies an App Attest attestation and registers the key.
func (s *Service) ExchangeApple(ctx context.Context, r *AppleRequest) (*Issued, error) {
	ctx, cancel := deadline(ctx)
	defer cancel()
	app, cd, err := s.begin(ctx, &r.Request, "apple", func(a *App) bool { return a.Apple != nil })
	if err != nil {
		return nil, err
	}
	if _, err := checkSigningKey(r.SigningKey, cd); err != nil {
		return nil, err
	}
	keyID, err1 := base64.StdEncoding.DecodeString(r.KeyID)
	att, err2 := base64.StdEncoding.DecodeString(r.Attestation)
	if err1 != nil || err2 != nil || len(keyID) == 0 || len(att) == 0 {
		return nil, fail(ReasonBadRequest, "key_id and attestation must be standard base64")
	}
	if err := s.consumeChallenge(ctx, cd.Challenge, app.ID); err != nil {
		return nil, err
	}
	exp := *app.Apple
	exp.ClientDataHash = clientDataHash(cd.Raw)
	exp.KeyID = keyID
	// The format reports the environment; the service judges it, with
	// its own reason, as for every platform.
	exp.Environments = []string{appattest.Production, appattest.Development}
	res := appattest.VerifyAttestation(att, exp, s.o.Now())
	if !res.Valid {
		return nil, evidenceError(res)
	}
	return s.finish(ctx, app, &r.Request, res.Facts, installID(keyID), cd.JKT, true, nil)
}

// AppleAssertionRequest refreshes a token with an App Attest assertion.
type AppleAssertionRequest struct {
	Request
	KeyID     string
	Assertion string
}

// ExchangeAppleAssertion verifies an assertion by a registered key, with a
// counter greater than any seen before, and issues a new token bound to
// the key registered at attestation.
func (s *Service) ExchangeAppleAssertion(ctx context.Context, r *AppleAssertionRequest) (*Issued, error) {
	ctx, cancel := deadline(ctx)
	defer cancel()
	app, cd, err := s.begin(ctx, &r.Request, "apple", func(a *App) bool { return a.Apple != nil })
	if err != nil {
		return nil, err
	}
	keyID, err1 := base64.StdEncoding.DecodeString(r.KeyID)
	a, err2 := base64.StdEncoding.DecodeString(r.Assertion)
	if err1 != nil || err2 != nil || len(keyID) == 0 || len(a) == 0 {
		return nil, fail(ReasonBadRequest, "key_id and assertion must be standard base64")
	}
	install := installID(keyID)
	if err := s.consumeChallenge(ctx, cd.Challenge, app.ID); err != nil {
		return nil, err
	}
	dev, err := s.o.Devices.Device(ctx, app.ID, install)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fail(ReasonUnknownDevice, "attest the key first")
	case err != nil:
		return nil, storeError("reading the device", err)
	case dev.Platform != platformApple:
		// Install ids of other platforms live in the same registry: an
		// Android key must not refresh as if it were an App Attest key,
		// skipping the attestation its platform requires every time.
		return nil, fail(ReasonUnknownDevice, "no App Attest key with this id")
	}
	if !dev.RevokedAt.IsZero() || s.o.Controls.Revoked(app.ID, install) {
		return nil, fail(ReasonDeviceRevoked, "install %s", install)
	}
	if dev.BoundKey != cd.JKT {
		return nil, fail(ReasonKeyMismatch, "the client data names another key than the one bound at attestation")
	}
	res := appattest.VerifyAssertion(a, appattest.AssertionExpect{
		TeamID: app.Apple.TeamID, BundleID: app.Apple.BundleID,
		ClientData: cd.Raw, PublicKey: dev.PublicKey, PreviousCounter: dev.Counter,
	})
	if !res.Valid {
		return nil, evidenceError(res)
	}
	// The counter is compared and stored in one step: of two concurrent
	// replays of one assertion, one wins.
	switch err := s.o.Devices.AdvanceCounter(ctx, app.ID, install, res.Facts.Counter, s.o.Now()); {
	case errors.Is(err, store.ErrCounterNotIncreased):
		return nil, fail(appattest.ReasonCounterNotIncreased, "counter %d", res.Facts.Counter)
	case err != nil:
		return nil, storeError("storing the counter", err)
	}
	f := res.Facts
	var stored storedFacts
	_ = json.Unmarshal(dev.Facts, &stored)
	f.Environment = stored.Environment
	return s.finish(ctx, app, &r.Request, f, install, dev.BoundKey, false, stored.SigningKey)
}

// platformApple is Facts.Platform of App Attest evidence.
const platformApple = "apple"
