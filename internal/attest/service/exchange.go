package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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
	if !validVersionText(r.AppVersion) {
		return nil, nil, fail(ReasonBadRequest, "app_version must be at most %d printable ASCII characters", maxVersionLen)
	}
	cd, err := ParseClientData(r.ClientData)
	if err != nil {
		return nil, nil, err
	}
	return app, cd, nil
}

// maxVersionLen bounds the app version the app reports: it goes into
// every token, and a token must stay far below the verifiers' size cap.
const maxVersionLen = 64

func validVersionText(v string) bool {
	if len(v) > maxVersionLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// finish applies the environment and version rules and the run-time
// controls, records the device (register) and issues the token.
//
// The version the rules judge, and the token's ver, is the one the app
// reports (Request.AppVersion). What the evidence attests is another
// numbering (Android's versionCode, Apple's CFBundleVersion) that the
// platform policies check themselves (android.min_version_code); it is
// kept in the device's facts.
//
// known is the request-signing key's public JWK remembered from the
// install's registration (nil on a first attestation): a refresh that does
// not send signing_key again still gets a token that carries the key.
func (s *Service) finish(ctx context.Context, app *App, r *Request, f attest.Facts, install, jkt string, register bool, known json.RawMessage) (*Issued, error) {
	if f.Environment == "" {
		f.Environment = "production"
	}
	if !app.allows(f.Environment) {
		return nil, fail(ReasonEnvironmentNotAllow, "%s evidence for an app that allows %v", f.Environment, app.Environments)
	}
	ver := r.AppVersion
	if !VersionAllowed(app.MinVersion, app.Blocked, s.o.Controls.Blocked(app.ID), ver) {
		return nil, fail(ReasonVersionBlocked, "version %q", ver)
	}
	if s.o.Controls.Revoked(app.ID, install) {
		return nil, fail(ReasonDeviceRevoked, "install %s", install)
	}
	now := s.o.Now()
	jwk := boundJWK(r, f, jkt, known)
	if register {
		if err := s.register(ctx, app, f, jwk, install, jkt, now); err != nil {
			return nil, err
		}
	}
	c := Claims{
		Subject: install, App: app.ID, Version: ver, Platform: f.Platform,
		Environment: f.Environment, Cnf: Confirmation{JKT: jkt, JWK: jwk},
	}
	if r.Authorization != "" {
		c.AuthHash = AuthHash(r.Authorization)
	}
	ttl := app.TokenTTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	tok, err := s.o.Issuer.Issue(c, now, ttl)
	if err != nil {
		return nil, err
	}
	return &Issued{Token: tok, ExpiresIn: ttl, InstallID: install, Facts: f}, nil
}

// storedFacts is what the device registry keeps as a device's facts: what
// the verifier found, and the public JWK of the request-signing key the
// attestation bound, when the exchange carried it, for later refreshes.
type storedFacts struct {
	attest.Facts
	SigningKey json.RawMessage `json:"signing_key,omitempty"`
}

// register records a newly attested key. A key registered before (an
// Android app re-attesting its key with a new challenge) keeps its
// registration, and must come from the same platform and bind the same
// signing key: an App Attest key's later assertions are bound to the key
// stored at its first attestation, and the registry cannot rebind it.
// A revoked key stays revoked.
func (s *Service) register(ctx context.Context, app *App, f attest.Facts, jwk json.RawMessage, install, jkt string, now time.Time) error {
	facts, err := json.Marshal(storedFacts{Facts: f, SigningKey: jwk})
	if err != nil {
		return err
	}
	err = s.o.Devices.RegisterDevice(ctx, store.Device{
		App: app.ID, KeyID: install, Platform: f.Platform, PublicKey: f.PublicKey,
		Counter: f.Counter, BoundKey: jkt, Facts: facts, FirstSeen: now, LastSeen: now,
	})
	if !errors.Is(err, store.ErrExists) {
		if err != nil {
			return storeError("registering the device", err)
		}
		return nil
	}
	d, err := s.o.Devices.Device(ctx, app.ID, install)
	switch {
	case err != nil:
		return storeError("reading the device", err)
	case !d.RevokedAt.IsZero():
		return fail(ReasonDeviceRevoked, "install %s", install)
	case d.Platform != f.Platform:
		return fail(ReasonKeyMismatch, "the key is registered for platform %s", d.Platform)
	case subtle.ConstantTimeCompare([]byte(d.BoundKey), []byte(jkt)) != 1:
		return fail(ReasonKeyMismatch, "the key is registered with another signing key")
	}
	return nil
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
