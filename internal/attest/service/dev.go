package service

import (
	"context"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// DevRequest is a development attestation (simulators, emulators, CI).
type DevRequest struct {
	Request
	// CertificateChain is the device certificate chain, standard base64
	// DER, device certificate first.
	CertificateChain []string
	// Signature is the device key's ECDSA P-256 SHA-256 signature over
	// SHA-256(client data), ASN.1 DER, base64url.
	Signature string
}

// ExchangeDev verifies development evidence: a device key certified by
// one of the app's development CAs signed the client data hash. The
// tokens it earns say development, and an app that does not allow the
// development environment refuses it with the service's reason
// (attestation.environment_not_allowed), whatever else is wrong.
func (s *Service) ExchangeDev(ctx context.Context, r *DevRequest) (*Issued, error) {
	ctx, cancel := deadline(ctx)
	defer cancel()
	app, cd, err := s.begin(ctx, &r.Request, "dev", func(a *App) bool { return a.Dev != nil })
	if err != nil {
		return nil, err
	}
	if !app.allows(devkey.Environment) {
		return nil, fail(ReasonEnvironmentNotAllow, "%s: development evidence for an app that allows %v", devkey.ReasonEnvironmentNotAllowed, app.Environments)
	}
	if _, err := checkSigningKey(r.SigningKey, cd); err != nil {
		return nil, err
	}
	ev, err := devkey.DecodeEvidence(r.CertificateChain, r.Signature)
	if err != nil || len(ev.Chain) == 0 {
		return nil, fail(ReasonBadRequest, "certificate_chain (standard base64) and signature (base64url) are required")
	}
	if err := s.consumeChallenge(ctx, cd.Challenge, app.ID); err != nil {
		return nil, err
	}
	res := app.Dev.Verify(ev, devkey.Expect{ClientDataHash: clientDataHash(cd.Raw), BoundKey: cd.JKT}, s.o.Now())
	if !res.Valid {
		return nil, evidenceError(res)
	}
	return s.finish(ctx, app, &r.Request, res.Facts, spkiInstall(res.Facts.PublicKey), cd.JKT, true, nil)
}
