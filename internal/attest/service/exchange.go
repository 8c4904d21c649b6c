package service

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// Request is what every exchange carries (docs/protocol.md §3).
type Request struct {
	// App is the app id in the config.
	App string
	// ClientData is the exact client data bytes.
	ClientData []byte
	// SigningKey is the request-signing key's public JWK; optional where
	// the attested key is the signing key (Android).
	SigningKey []byte
	// AppVersion is the version the app reports, used where the evidence
	// carries none.
	AppVersion string
	// Authorization, when not empty, binds the token to this
	// Authorization header value (the uth claim).
	Authorization string
}

// begin runs the checks every exchange starts with: the app, the platform,
// the client data and its challenge.
func (s *Service) begin(ctx context.Context, r *Request, platform string, configured func(*App) bool) (*App, *ClientData, error) {
	app, ok := s.o.Apps[r.App]
	if !ok {
		return nil, nil, fail(ReasonUnknownApp, "no app %q", r.App)
	}
	if !configured(app) {
		return nil, nil, fail(ReasonPlatformNotAllowed, "app %q does not accept %s attestation", r.App, platform)
	}
	cd, err := ParseClientData(r.ClientData)
	if err != nil {
		return nil, nil, err
	}
	return app, cd, nil
}

// finish applies the version rules and controls, records the device and
// issues the token.
func (s *Service) finish(ctx context.Context, app *App, r *Request, f attest.Facts, install, jkt string, register bool) (*Issued, error) {
	if f.Environment == "" {
		f.Environment = "production"
	}
	if !app.allows(f.Environment) {
		return nil, fail(ReasonEnvironmentNotAllow, "%s evidence for an app that allows %v", f.Environment, app.Environments)
	}
	ver := f.AppVersion
	if ver == "" {
		ver = r.AppVersion
	}
	if !VersionAllowed(app.MinVersion, app.Blocked, s.o.Controls.Blocked(app.ID), ver) {
		return nil, fail(ReasonVersionBlocked, "version %q", ver)
	}
	if s.o.Controls.Revoked(app.ID, install) {
		return nil, fail(ReasonDeviceRevoked, "install %s", install)
	}
	now := s.o.Now()
	if register {
		facts, _ := json.Marshal(f)
		err := s.o.Devices.RegisterDevice(ctx, store.Device{
			App: app.ID, KeyID: install, Platform: f.Platform, PublicKey: f.PublicKey,
			Counter: f.Counter, BoundKey: jkt, Facts: facts, FirstSeen: now, LastSeen: now,
		})
		switch {
		case errors.Is(err, store.ErrExists):
			// The key was attested before (Android re-attests its key with
			// a new challenge): keep its registration, unless revoked.
			d, err := s.o.Devices.Device(ctx, app.ID, install)
			if err != nil {
				return nil, storeError("reading the device", err)
			}
			if !d.RevokedAt.IsZero() {
				return nil, fail(ReasonDeviceRevoked, "install %s", install)
			}
		case err != nil:
			return nil, storeError("registering the device", err)
		}
	}
	c := Claims{
		Subject: install, App: app.ID, Version: ver, Platform: f.Platform,
		Environment: f.Environment, Cnf: Confirmation{JKT: jkt},
	}
	if r.Authorization != "" {
		c.AuthHash = AuthHash(r.Authorization)
	}
	tok, err := s.o.Issuer.Issue(c, now, app.TokenTTL)
	if err != nil {
		return nil, err
	}
	return &Issued{Token: tok, ExpiresIn: app.TokenTTL, InstallID: install, Facts: f}, nil
}

// AuthHash is the uth claim for an Authorization header value:
// base64url(SHA-256(value)).
func AuthHash(authorization string) string {
	h := sha256.Sum256([]byte(authorization))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// spkiInstall is the install id of a key known by its PKIX DER bytes.
func spkiInstall(spki []byte) string {
	h := sha256.Sum256(spki)
	return installID(h[:])
}

// deadline bounds the store work of one exchange.
func deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Second)
}

func parsePKIX(der []byte) (any, error) { return x509.ParsePKIXPublicKey(der) }
