package service_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
)

// playExchange builds a Play Integrity exchange for s (a new signing key
// when nil), the verdict edited by edit.
func (f *fixture) playExchange(s *signer, edit func(playintegritytest.Verdict)) (*service.PlayRequest, *signer) {
	f.t.Helper()
	if s == nil {
		s = newSigner(f.t)
	}
	cd, hash := s.clientData(f.challenge(appPlay))
	v := playintegritytest.NewVerdict(androidPkg, hash, androidDigest, 7, f.clock.Now())
	if edit != nil {
		edit(v)
	}
	tok, err := f.play.MintJSON(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return &service.PlayRequest{Request: service.Request{App: appPlay, ClientData: cd, SigningKey: s.jwk, AppVersion: "3.1.0"}, IntegrityToken: tok}, s
}

func TestPlayExchange(t *testing.T) {
	f := newFixture(t)
	req, s := f.playExchange(nil, nil)
	iss, err := f.svc.ExchangePlay(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, f, iss.Token)
	if c["plat"] != "play" || c["env"] != "production" || cnf(c) != s.jkt || c["app"] != appPlay {
		t.Errorf("claims %v", c)
	}
	// The same signing key again: the same install.
	req2, _ := f.playExchange(s, nil)
	iss2, err := f.svc.ExchangePlay(context.Background(), req2)
	if err != nil || iss2.InstallID != iss.InstallID {
		t.Fatalf("second verdict for one key: %v, install %s want %s", err, iss2.InstallID, iss.InstallID)
	}

	tests := []struct {
		name string
		edit func(playintegritytest.Verdict)
		req  func(*service.PlayRequest)
		want string
	}{
		{"another package", func(v playintegritytest.Verdict) { v.Section("appIntegrity")["packageName"] = "com.evil" }, nil, playintegrity.ReasonPackageMismatch},
		{"nonce of other client data", func(v playintegritytest.Verdict) {
			v.Section("requestDetails")["requestHash"] = base64.RawURLEncoding.EncodeToString(make([]byte, 32))
		}, nil, playintegrity.ReasonNonceMismatch},
		{"stale verdict", func(v playintegritytest.Verdict) {
			v.Section("requestDetails")["timestampMillis"] = "1000"
		}, nil, playintegrity.ReasonTimestampStale},
		{"no token", nil, func(r *service.PlayRequest) { r.IntegrityToken = "" }, service.ReasonBadRequest},
		{"no signing key", nil, func(r *service.PlayRequest) { r.SigningKey = nil }, service.ReasonBadRequest},
		{"iOS app", nil, func(r *service.PlayRequest) { r.App = appIOS }, service.ReasonPlatformNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := f.playExchange(nil, tt.edit)
			if tt.req != nil {
				tt.req(req)
			}
			_, err := f.svc.ExchangePlay(context.Background(), req)
			wantReason(t, err, tt.want)
		})
	}
}

// devExchange builds a development exchange for app by a device the
// fixture's development CA certified for certApp.
func (f *fixture) devExchange(app, certApp string) *service.DevRequest {
	f.t.Helper()
	a, err := devkey.NewAttestor(f.devCA, f.devCAKey, certApp, f.clock.Now(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	s := newSigner(f.t)
	cd, hash := s.clientData(f.challenge(app))
	ev, err := a.Attest(hash)
	if err != nil {
		f.t.Fatal(err)
	}
	req := &service.DevRequest{Request: service.Request{App: app, ClientData: cd, SigningKey: s.jwk, AppVersion: "0.9"},
		Signature: base64.RawURLEncoding.EncodeToString(ev.Signature)}
	for _, c := range ev.Chain {
		req.CertificateChain = append(req.CertificateChain, base64.StdEncoding.EncodeToString(c))
	}
	return req
}

func TestDevExchange(t *testing.T) {
	f := newFixture(t)
	iss, err := f.svc.ExchangeDev(context.Background(), f.devExchange(appDevCI, appDevCI))
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, f, iss.Token); c["plat"] != "dev" || c["env"] != "development" {
		t.Errorf("claims %v", c)
	}
	// A production app refuses development evidence with the service's
	// reason, whatever the evidence.
	_, err = f.svc.ExchangeDev(context.Background(), f.devExchange(appDevProd, appDevProd))
	wantReason(t, err, service.ReasonEnvironmentNotAllow)
	// A device certified for another app.
	_, err = f.svc.ExchangeDev(context.Background(), f.devExchange(appDevCI, appDevProd))
	wantReason(t, err, devkey.ReasonWrongApp)
	// A bad signature.
	req := f.devExchange(appDevCI, appDevCI)
	req.Signature = base64.RawURLEncoding.EncodeToString([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	_, err = f.svc.ExchangeDev(context.Background(), req)
	wantReason(t, err, devkey.ReasonBadSignature)
	// Malformed evidence.
	req = f.devExchange(appDevCI, appDevCI)
	req.CertificateChain = []string{"***"}
	_, err = f.svc.ExchangeDev(context.Background(), req)
	wantReason(t, err, service.ReasonBadRequest)
}
