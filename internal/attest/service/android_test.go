package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey/androidkeytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
)

func TestAndroidExchange(t *testing.T) {
	for _, separate := range []bool{false, true} {
		name := map[bool]string{false: "attested key signs", true: "separate signing key"}[separate]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			req, chain, s := f.androidExchange(appAndroid, separate, nil)
			iss, err := f.svc.ExchangeAndroid(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			spki := sha256.Sum256(mustPKIX(t, &chain.Key.PublicKey))
			if want := base64.RawURLEncoding.EncodeToString(spki[:]); iss.InstallID != want {
				t.Errorf("install id %q, want base64url(SHA-256(SPKI)) %q", iss.InstallID, want)
			}
			c := claimsOf(t, f, iss.Token)
			if c["plat"] != "android" || c["env"] != "production" || cnf(c) != s.jkt || c["ver"] != "3.1.0" || c["app"] != appAndroid {
				t.Errorf("claims %v", c)
			}
			// The attested versionCode is kept with the device.
			if iss.Facts.AppVersion != "7" || iss.Facts.SecurityLevel != "tee" {
				t.Errorf("facts %+v", iss.Facts)
			}
		})
	}
}

func TestAndroidRefusals(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		separate bool
		edit     func(*androidkeytest.Attestation)
		req      func(*service.AndroidRequest)
		want     string
	}{
		{"software key", false, func(a *androidkeytest.Attestation) { a.SecurityLevel = androidkey.Software }, nil, androidkey.ReasonSoftwareSecurityLevel},
		{"unlocked bootloader", false, func(a *androidkeytest.Attestation) { a.Unlocked = true }, nil, androidkey.ReasonUnlockedBootloader},
		{"unverified boot", false, func(a *androidkeytest.Attestation) { a.BootState = androidkey.Unverified }, nil, androidkey.ReasonUnverifiedBoot},
		{"another package", false, func(a *androidkeytest.Attestation) { a.Package = "com.evil.shop" }, nil, androidkey.ReasonPackageNotAllowed},
		{"old build", false, func(a *androidkeytest.Attestation) { a.VersionCode = 2 }, nil, androidkey.ReasonVersionTooOld},
		{"challenge of other client data", false, func(a *androidkeytest.Attestation) { a.Challenge = []byte("another challenge") }, nil, androidkey.ReasonChallengeMismatch},
		{"chain reordered", false, nil, func(r *service.AndroidRequest) {
			c := r.CertificateChain
			c[0], c[1] = c[1], c[0]
		}, ""},
		{"attested key is not the one the client data names", false, func(a *androidkeytest.Attestation) { a.Key = nil }, nil, service.ReasonKeyMismatch},
		{"signing key is not the one the client data names", true, nil, func(r *service.AndroidRequest) { r.SigningKey = newSigner(t).jwk }, service.ReasonKeyMismatch},
		{"no chain", false, nil, func(r *service.AndroidRequest) { r.CertificateChain = nil }, service.ReasonBadRequest},
		{"too long a chain", false, nil, func(r *service.AndroidRequest) {
			for range 10 {
				r.CertificateChain = append(r.CertificateChain, r.CertificateChain[0])
			}
		}, service.ReasonBadRequest},
		{"not base64", false, nil, func(r *service.AndroidRequest) { r.CertificateChain[0] = "%%%" }, service.ReasonBadRequest},
		{"iOS app", false, nil, func(r *service.AndroidRequest) { r.App = appIOS }, service.ReasonPlatformNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _, _ := f.androidExchange(appAndroid, tt.separate, tt.edit)
			if tt.req != nil {
				tt.req(req)
			}
			_, err := f.svc.ExchangeAndroid(context.Background(), req)
			if tt.want == "" {
				// Any androidkey reason: the chain's order is checked.
				var se *service.Error
				if !asError(err, &se) || se.Result == nil || se.Result.Valid {
					t.Fatalf("reordered chain: %v, want an androidkey refusal", err)
				}
				return
			}
			se := wantReason(t, err, tt.want)
			if tt.want != service.ReasonKeyMismatch && tt.want != service.ReasonBadRequest && tt.want != service.ReasonPlatformNotAllowed {
				if se.Result == nil || se.Result.Reason != tt.want {
					t.Errorf("Result %+v, want the verifier's verdict", se.Result)
				}
			}
		})
	}
}

// Android re-attests its key with a new challenge: the registration is
// kept, unless the device was revoked.
func TestAndroidReattestation(t *testing.T) {
	f := newFixture(t)
	req, chain, s := f.androidExchange(appAndroid, false, nil)
	first, err := f.svc.ExchangeAndroid(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again := func() error {
		cd, hash := s.clientData(f.challenge(appAndroid))
		c := f.android.Attest(androidkeytest.Attestation{
			Challenge: hash, Package: androidPkg, VersionCode: 7, SigningCertDigests: [][]byte{androidDigest},
			SecurityLevel: androidkey.StrongBox, Key: chain.Key, At: f.clock.Now(),
		})
		r := &service.AndroidRequest{Request: service.Request{App: appAndroid, ClientData: cd, AppVersion: "3.1.0"}}
		for _, der := range c.DER {
			r.CertificateChain = append(r.CertificateChain, base64.StdEncoding.EncodeToString(der))
		}
		iss, err := f.svc.ExchangeAndroid(context.Background(), r)
		if err == nil && iss.InstallID != first.InstallID {
			t.Errorf("re-attested key got install %s, want %s", iss.InstallID, first.InstallID)
		}
		return err
	}
	if err := again(); err != nil {
		t.Fatalf("re-attestation: %v", err)
	}
	// A revoked install stays revoked: refused at once from the stored
	// record, and from the controls once they have been read.
	if err := f.durable.RevokeDevice(context.Background(), appAndroid, first.InstallID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantReason(t, again(), service.ReasonDeviceRevoked)
	f.refresh()
	wantReason(t, again(), service.ReasonDeviceRevoked)
}

// An Android install id cannot be used to refresh as an App Attest key,
// which would skip the attestation Android requires every time.
func TestAndroidKeyCannotAssert(t *testing.T) {
	f := newFixture(t)
	// An app with both platforms.
	f.apps[appAndroid].Apple = f.apps[appIOS].Apple
	req, chain, s := f.androidExchange(appAndroid, false, nil)
	iss, err := f.svc.ExchangeAndroid(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(iss.InstallID)
	cd, _ := s.clientData(f.challenge(appAndroid))
	asr := assertionWith(chain.Key, cd, 1)
	_, err = f.svc.ExchangeAppleAssertion(context.Background(), &service.AppleAssertionRequest{
		Request: service.Request{App: appAndroid, ClientData: cd},
		KeyID:   base64.StdEncoding.EncodeToString(raw), Assertion: base64.StdEncoding.EncodeToString(asr),
	})
	wantReason(t, err, service.ReasonUnknownDevice)
}
