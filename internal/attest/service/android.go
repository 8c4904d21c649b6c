package service

import (
	"context"
	"encoding/base64"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
)

// maxChainCerts bounds a certificate chain in a request.
const maxChainCerts = 10

// AndroidRequest is an Android key attestation.
type AndroidRequest struct {
	Request
	// CertificateChain is the Keystore chain, leaf first, DER base64.
	CertificateChain []string
}

// ExchangeAndroid verifies a key attestation chain. When the request has
// no signing key, the attested Keystore key is the request-signing key.
func (s *Service) ExchangeAndroid(ctx context.Context, r *AndroidRequest) (*Issued, error) {
	ctx, cancel := deadline(ctx)
	defer cancel()
	app, cd, err := s.begin(ctx, &r.Request, "android", func(a *App) bool { return a.Android != nil })
	if err != nil {
		return nil, err
	}
	if len(r.CertificateChain) == 0 || len(r.CertificateChain) > maxChainCerts {
		return nil, fail(ReasonBadRequest, "certificate_chain must hold 1 to %d certificates", maxChainCerts)
	}
	chain := make([][]byte, len(r.CertificateChain))
	for i, c := range r.CertificateChain {
		if chain[i], err = base64.StdEncoding.DecodeString(c); err != nil {
			return nil, fail(ReasonBadRequest, "certificate_chain[%d] must be standard base64", i)
		}
	}
	if len(r.SigningKey) > 0 {
		if _, err := checkSigningKey(r.SigningKey, cd); err != nil {
			return nil, err
		}
	}
	if err := s.consumeChallenge(ctx, cd.Challenge, app.ID); err != nil {
		return nil, err
	}
	res := androidkey.Verify(chain, clientDataHash(cd.Raw), *app.Android, s.o.Now())
	if !res.Valid {
		return nil, evidenceError(res)
	}
	if len(r.SigningKey) == 0 {
		// The attested key signs requests: the client data must name it.
		pub, err := parsePKIX(res.Facts.PublicKey)
		if err != nil {
			return nil, fail(ReasonBadRequest, "attested key: %v", err)
		}
		if _, err := matchKey(pub, cd); err != nil {
			return nil, err
		}
	}
	return s.finish(ctx, app, &r.Request, res.Facts, spkiInstall(res.Facts.PublicKey), cd.JKT, true, nil)
}
