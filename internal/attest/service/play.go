package service

import (
	"context"
	"crypto/x509"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// maxIntegrityToken bounds a Play Integrity token in a request; the
// verifier caps it again with its policy's limit.
const maxIntegrityToken = 16 << 10

// PlayRequest is a Play Integrity exchange.
type PlayRequest struct {
	Request
	// IntegrityToken is the token the Play Integrity API returned for
	// nonce (or requestHash) base64url(SHA-256(client data)).
	IntegrityToken string
}

// ExchangePlay verifies a Play Integrity verdict. Play attests the app
// and the device, not a key: the install is the request-signing key the
// verdict's nonce binds, identified by its thumbprint, and registered
// with it on first use.
func (s *Service) ExchangePlay(ctx context.Context, r *PlayRequest) (*Issued, error) {
	ctx, cancel := deadline(ctx)
	defer cancel()
	app, cd, err := s.begin(ctx, &r.Request, "play", func(a *App) bool { return a.Play != nil })
	if err != nil {
		return nil, err
	}
	pub, err := checkSigningKey(r.SigningKey, cd)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fail(ReasonBadRequest, "unsupported signing key: %v", err)
	}
	if r.IntegrityToken == "" || len(r.IntegrityToken) > maxIntegrityToken {
		return nil, fail(ReasonBadRequest, "integrity_token must hold 1 to %d bytes", maxIntegrityToken)
	}
	if err := s.consumeChallenge(ctx, cd.Challenge, app.ID); err != nil {
		return nil, err
	}
	res := app.Play.Verify(r.IntegrityToken, playintegrity.Expect{ClientDataHash: clientDataHash(cd.Raw), BoundKey: cd.JKT}, s.o.Now())
	if !res.Valid {
		return nil, evidenceError(res)
	}
	f := res.Facts
	f.PublicKey = spki
	return s.finish(ctx, app, &r.Request, f, spkiInstall(spki), cd.JKT, true, nil)
}
