package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
)

func TestChallenges(t *testing.T) {
	f := newFixture(t)
	c, err := f.svc.NewChallenge(context.Background(), appIOS)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Challenge) != 43 || c.ExpiresIn != 2*time.Minute {
		t.Errorf("challenge %q expires in %v: want 32 bytes base64url and 2m", c.Challenge, c.ExpiresIn)
	}
	_, err = f.svc.NewChallenge(context.Background(), "no-such-app")
	wantReason(t, err, service.ReasonUnknownApp)

	t.Run("single use", func(t *testing.T) {
		a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
		a.mustDo()
		_, err := a.do()
		wantReason(t, err, service.ReasonChallengeInvalid)
	})
	t.Run("expired", func(t *testing.T) {
		a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
		f.clock.Add(2*time.Minute + time.Millisecond)
		_, err := a.do()
		wantReason(t, err, service.ReasonChallengeInvalid)
	})
	t.Run("issued for another app", func(t *testing.T) {
		a := f.appleExchange(appIOSDev, appattesttest.Production, "2.3.1")
		a.req.App = appIOS
		_, err := a.do()
		wantReason(t, err, service.ReasonChallengeInvalid)
		// ... and it is gone for the app it was issued for, too.
		a.req.App = appIOSDev
		_, err = a.do()
		wantReason(t, err, service.ReasonChallengeInvalid)
	})
	t.Run("never issued", func(t *testing.T) {
		a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
		s := a.signer
		cd, hash := s.clientData(strings.Repeat("A", 43))
		att := f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: hash, At: f.clock.Now()})
		a.req.ClientData, a.req.KeyID, a.req.Attestation = cd, att.KeyIDBase64(), att.ObjectBase64()
		_, err := a.do()
		wantReason(t, err, service.ReasonChallengeInvalid)
	})
}

// The client data has one shape; every other is refused before the
// challenge is consumed.
func TestClientDataShape(t *testing.T) {
	f := newFixture(t)
	ch := strings.Repeat("c", 43)
	jkt := strings.Repeat("k", 43)
	tests := []struct{ name, cd string }{
		{"spaces", `{"challenge": "` + ch + `","jkt":"` + jkt + `"}`},
		{"keys swapped", `{"jkt":"` + jkt + `","challenge":"` + ch + `"}`},
		{"extra member", `{"challenge":"` + ch + `","jkt":"` + jkt + `","x":1}`},
		{"missing jkt", `{"challenge":"` + ch + `"}`},
		{"padded", `{"challenge":"` + ch + `=","jkt":"` + jkt + `"}`},
		{"standard base64", `{"challenge":"` + ch[:42] + `+","jkt":"` + jkt + `"}`},
		{"short challenge", `{"challenge":"abc","jkt":"` + jkt + `"}`},
		{"too long", `{"challenge":"` + strings.Repeat("c", 300) + `","jkt":"` + jkt + `"}`},
		{"empty", ``},
		{"escaped", `{"challenge":"` + ch + `","jkt":"\u0041` + jkt[1:] + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := service.ParseClientData([]byte(tt.cd))
			wantReason(t, err, service.ReasonBadRequest)
		})
	}
	cd, err := service.ParseClientData(service.FormatClientData(ch, jkt))
	if err != nil || cd.Challenge != ch || cd.JKT != jkt {
		t.Fatalf("the documented shape: %+v, %v", cd, err)
	}

	// Through an exchange: the challenge survives a malformed request.
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	good := a.req.ClientData
	a.req.ClientData = []byte(strings.Replace(string(good), `","jkt"`, `", "jkt"`, 1))
	_, err = a.do()
	wantReason(t, err, service.ReasonBadRequest)
	a.req.ClientData = good
	a.mustDo()
}

func TestExchangeRequestChecks(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*service.AppleRequest)
		want string
	}{
		{"unknown app", func(r *service.AppleRequest) { r.App = "nope" }, service.ReasonUnknownApp},
		{"platform not configured", func(r *service.AppleRequest) { r.App = appAndroid }, service.ReasonPlatformNotAllowed},
		{"no signing key", func(r *service.AppleRequest) { r.SigningKey = nil }, service.ReasonBadRequest},
		{"private signing key", func(r *service.AppleRequest) {
			r.SigningKey = []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`)
		}, service.ReasonBadRequest},
		{"signing key not a JWK", func(r *service.AppleRequest) { r.SigningKey = []byte(`"x"`) }, service.ReasonBadRequest},
		{"signing key mismatch", func(r *service.AppleRequest) { r.SigningKey = newSigner(t).jwk }, service.ReasonKeyMismatch},
		{"key id not base64", func(r *service.AppleRequest) { r.KeyID = "***" }, service.ReasonBadRequest},
		{"empty attestation", func(r *service.AppleRequest) { r.Attestation = "" }, service.ReasonBadRequest},
		{"version too long", func(r *service.AppleRequest) { r.AppVersion = strings.Repeat("1", 65) }, service.ReasonBadRequest},
		{"version with a space", func(r *service.AppleRequest) { r.AppVersion = "2.3 beta" }, service.ReasonBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
			tt.edit(&a.req)
			_, err := a.do()
			wantReason(t, err, tt.want)
		})
	}
}

func TestVersionRules(t *testing.T) {
	f := newFixture(t)
	exchange := func(ver string) error {
		_, err := f.appleExchange(appIOS, appattesttest.Production, ver).do()
		return err
	}
	for _, ver := range []string{"2.0", "2.1.2", "2.10", "3"} {
		if err := exchange(ver); err != nil {
			t.Errorf("version %s: %v", ver, err)
		}
	}
	// Below the minimum, none reported, a pre-release of the minimum,
	// blocked in the config.
	for _, ver := range []string{"1.9.9", "", "2.0-beta", "2.1.3"} {
		wantReason(t, exchange(ver), service.ReasonVersionBlocked)
	}
	// Blocked at run time, through the durable store; unblocked again.
	if err := f.durable.SetVersionBlocked(context.Background(), appIOS, "2.4.0", true); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	wantReason(t, exchange("2.4.0"), service.ReasonVersionBlocked)
	if err := f.durable.SetVersionBlocked(context.Background(), appIOS, "2.4.0", false); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	if err := exchange("2.4.0"); err != nil {
		t.Errorf("after unblocking: %v", err)
	}
	// An app without a minimum accepts no version at all.
	if _, err := f.appleExchange(appIOSDev, appattesttest.Production, "").do(); err != nil {
		t.Error(err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.10", "2.9", 1}, {"2.0", "2", 0}, {"2.0.1", "2.0", 1}, {"1.9.9", "2.0", -1},
		{"2.0-beta", "2.0", -1}, {"x", "0", -1}, {"10", "9", 1},
	}
	for _, tt := range tests {
		if got := service.CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRevokedDevice(t *testing.T) {
	f := newFixture(t)
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	iss := a.mustDo()
	if err := f.durable.RevokeDevice(context.Background(), appIOS, iss.InstallID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// At assertion: from the stored record at once.
	_, err := f.svc.ExchangeAppleAssertion(context.Background(), f.assertion(appIOS, a.att, a.signer, 1, "2.3.1"))
	wantReason(t, err, service.ReasonDeviceRevoked)
	// At exchange: from the controls, once read.
	f.refresh()
	if !f.controls.Revoked(appIOS, iss.InstallID) {
		t.Fatal("the controls do not list the revoked install")
	}
	cd, hash := a.signer.clientData(f.challenge(appIOS))
	att := f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, ClientDataHash: hash, Key: a.att.Key, At: f.clock.Now()})
	_, err = f.svc.ExchangeApple(context.Background(), &service.AppleRequest{
		Request: service.Request{App: appIOS, ClientData: cd, SigningKey: a.signer.jwk, AppVersion: "2.3.1"},
		KeyID:   att.KeyIDBase64(), Attestation: att.ObjectBase64(),
	})
	wantReason(t, err, service.ReasonDeviceRevoked)
}

func TestNewRequiresItsParts(t *testing.T) {
	if _, err := service.New(service.Options{}); err == nil {
		t.Error("New without issuer, stores and controls")
	}
}
