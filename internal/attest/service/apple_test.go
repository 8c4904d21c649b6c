package service_test

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
)

func TestAppleExchangeAndAssertion(t *testing.T) {
	f := newFixture(t)
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	iss := a.mustDo()
	if want := base64.RawURLEncoding.EncodeToString(a.att.KeyID); iss.InstallID != want {
		t.Errorf("install id %q, want the key id base64url %q", iss.InstallID, want)
	}
	if iss.Facts.Platform != "apple" || iss.Facts.Environment != "production" || iss.ExpiresIn != f.apps[appIOS].TokenTTL {
		t.Errorf("issued %+v", iss)
	}
	dev, err := f.durable.Device(context.Background(), appIOS, iss.InstallID)
	if err != nil {
		t.Fatal(err)
	}
	if dev.BoundKey != a.signer.jkt || dev.Platform != "apple" || dev.Counter != 0 {
		t.Errorf("registered %+v", dev)
	}

	// Refresh by assertion, counters 1 then 5; the token stays bound to
	// the key registered at attestation.
	for _, counter := range []uint32{1, 5} {
		iss2, err := f.svc.ExchangeAppleAssertion(context.Background(), f.assertion(appIOS, a.att, a.signer, counter, "2.3.2"))
		if err != nil {
			t.Fatalf("assertion %d: %v", counter, err)
		}
		c := claimsOf(t, f, iss2.Token)
		if c["sub"] != iss.InstallID || cnf(c) != a.signer.jkt || c["ver"] != "2.3.2" || c["env"] != "production" {
			t.Errorf("assertion %d token claims %v", counter, c)
		}
		// The refresh sent no signing_key; the token still carries K's
		// public key, remembered at attestation, for HTTP signatures.
		if m, _ := c["cnf"].(map[string]any); m["jwk"] == nil {
			t.Errorf("assertion %d token has no cnf.jwk: %v", counter, c)
		}
	}
	// A replayed counter is refused with the format's reason.
	_, err = f.svc.ExchangeAppleAssertion(context.Background(), f.assertion(appIOS, a.att, a.signer, 5, "2.3.2"))
	se := wantReason(t, err, appattest.ReasonCounterNotIncreased)
	if se.Result == nil || se.Result.Valid {
		t.Errorf("the refusal carries no verifier result: %+v", se)
	}
	// An assertion naming another signing key than the registered one.
	_, err = f.svc.ExchangeAppleAssertion(context.Background(), f.assertion(appIOS, a.att, newSigner(t), 9, "2.3.2"))
	wantReason(t, err, service.ReasonKeyMismatch)
	// An assertion by a key never attested.
	other := f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: []byte("x")})
	_, err = f.svc.ExchangeAppleAssertion(context.Background(), f.assertion(appIOS, other, a.signer, 1, "2.3.2"))
	wantReason(t, err, service.ReasonUnknownDevice)
	// An assertion signed by another key than the registered one.
	req := f.assertion(appIOS, a.att, a.signer, 10, "2.3.2")
	cd := req.ClientData
	req.Assertion = base64.StdEncoding.EncodeToString(appattesttest.Assertion(other.Key, teamID, bundleID, 10, cd))
	_, err = f.svc.ExchangeAppleAssertion(context.Background(), req)
	wantReason(t, err, appattest.ReasonBadSignature)
}

// Two concurrent assertions with the same counter, each over its own
// challenge: exactly one is honoured.
func TestAppleAssertionCounterRace(t *testing.T) {
	f := newFixture(t)
	counterRace(t, f)
}

func counterRace(t *testing.T, f *fixture) {
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	a.mustDo()
	for round := uint32(1); round <= 5; round++ {
		reqs := []*service.AppleAssertionRequest{
			f.assertion(appIOS, a.att, a.signer, round, "2.3.1"),
			f.assertion(appIOS, a.att, a.signer, round, "2.3.1"),
		}
		errs := make([]error, len(reqs))
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() { _, errs[i] = f.svc.ExchangeAppleAssertion(context.Background(), r) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantReason(t, err, appattest.ReasonCounterNotIncreased)
		}
		if ok != 1 {
			t.Fatalf("round %d: %d assertions with one counter succeeded, want exactly 1 (%v)", round, ok, errs)
		}
	}
}

func TestAppleEnvironments(t *testing.T) {
	f := newFixture(t)
	// Development keys for a production-only app: the service's reason,
	// not the format's.
	_, err := f.appleExchange(appIOS, appattesttest.Development, "2.3.1").do()
	wantReason(t, err, service.ReasonEnvironmentNotAllow)
	iss := f.appleExchange(appIOSDev, appattesttest.Development, "").mustDo()
	if iss.Facts.Environment != "development" || claimsOf(t, f, iss.Token)["env"] != "development" {
		t.Errorf("development exchange: %+v", iss.Facts)
	}
	f.appleExchange(appIOSDev, appattesttest.Production, "").mustDo()
}

// A key attested again (with a new challenge) keeps its registration when
// it binds the same signing key; another signing key is refused.
func TestAppleReattestation(t *testing.T) {
	f := newFixture(t)
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	first := a.mustDo()
	again := func(s *signer) error {
		cd, hash := s.clientData(f.challenge(appIOS))
		att := f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: hash, Key: a.att.Key, At: f.clock.Now()})
		_, err := f.svc.ExchangeApple(context.Background(), &service.AppleRequest{
			Request: service.Request{App: appIOS, ClientData: cd, SigningKey: s.jwk, AppVersion: "2.3.1"},
			KeyID:   att.KeyIDBase64(), Attestation: att.ObjectBase64(),
		})
		return err
	}
	if err := again(a.signer); err != nil {
		t.Fatalf("re-attestation with the same signing key: %v", err)
	}
	wantReason(t, again(newSigner(t)), service.ReasonKeyMismatch)
	if err := f.durable.RevokeDevice(context.Background(), appIOS, first.InstallID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The stored revocation refuses it even before the controls cache
	// has caught up.
	wantReason(t, again(a.signer), service.ReasonDeviceRevoked)
}

func TestAppleEvidenceRefusals(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*appleAttempt)
		want string
	}{
		{"key id of another key", func(a *appleAttempt) {
			a.req.KeyID = base64.StdEncoding.EncodeToString(make([]byte, 32))
		}, appattest.ReasonKeyIDMismatch},
		{"attested over other client data", func(a *appleAttempt) {
			att := a.f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: []byte("other"), Key: a.att.Key, At: a.f.clock.Now()})
			a.req.Attestation = att.ObjectBase64()
		}, appattest.ReasonNonceMismatch},
		{"another team's app", func(a *appleAttempt) {
			h := sha256Of(a.req.ClientData)
			att := a.f.apple.Attest(appattesttest.Attestation{TeamID: "OTHERTEAM1", BundleID: bundleID, ClientDataHash: h, Key: a.att.Key, At: a.f.clock.Now()})
			a.req.Attestation = att.ObjectBase64()
		}, appattest.ReasonRPIDMismatch},
		{"under another root", func(a *appleAttempt) {
			h := sha256Of(a.req.ClientData)
			att := appattesttest.NewAuthority().Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: h, Key: a.att.Key, At: a.f.clock.Now()})
			a.req.Attestation = att.ObjectBase64()
		}, appattest.ReasonChainUntrusted},
		{"not CBOR", func(a *appleAttempt) {
			a.req.Attestation = base64.StdEncoding.EncodeToString([]byte("not an attestation"))
		}, appattest.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
			tt.edit(a)
			_, err := a.do()
			se := wantReason(t, err, tt.want)
			if se.Result == nil || se.Result.Reason != tt.want {
				t.Errorf("Result %+v, want the verifier's verdict", se.Result)
			}
			// The challenge was spent by the failed attempt.
			_, err = a.do()
			wantReason(t, err, service.ReasonChallengeInvalid)
		})
	}
}
