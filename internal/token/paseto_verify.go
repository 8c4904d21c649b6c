package token

import (
	"context"
	"errors"
	"time"
)

// verifyPASETO verifies a PASETO v4 token with the same issuer and claim
// rules as a JWT; times are RFC 3339 strings, as PASETO writes them.
func (v *Verifier) verifyPASETO(ctx context.Context, raw string, now time.Time) (*Token, error) {
	t, err := splitPASETO(raw)
	if err != nil {
		return nil, err
	}
	var footer map[string]any
	kid, hasKID := "", false
	if len(t.footer) > 0 && t.footer[0] == '{' {
		footer, err = parseObject(t.footer)
		if err != nil {
			return nil, objectError(err, ReasonMalformed, "the footer")
		}
		if k, ok := footer["kid"]; ok {
			s, isString := k.(string)
			if !isString {
				return nil, newError(ReasonBadKID, "kid is not a string")
			}
			if err := checkKID(s); err != nil {
				return nil, err
			}
			kid, hasKID = s, true
		}
	}
	alg := "v4." + t.purpose
	if t.purpose == "public" {
		claims, err := parseClaims(t.body[:len(t.body)-64], rfc3339Date)
		if err != nil {
			return nil, err
		}
		_, hasIss := claims.raw["iss"]
		is, err := v.issuerFor(claims.Issuer, hasIss)
		if err != nil {
			return nil, err
		}
		keys, err := is.keysFor(ctx, alg, kid, hasKID)
		if err != nil {
			return nil, err
		}
		for _, kc := range keys {
			if _, err := t.open(kc.key, v.implicit); err == nil {
				return v.finishPASETO(is, kc, alg, kid, footer, claims, now)
			}
		}
		return nil, newError(ReasonBadSignature, "the PASETO signature does not verify")
	}
	// v4.local: the claims are encrypted, so the key picks the issuer.
	var first error
	for _, is := range v.issuers {
		keys, err := is.keysFor(ctx, alg, kid, hasKID)
		if err != nil {
			if first == nil || ReasonOf(first) == ReasonAlgNotAllowed {
				first = err
			}
			continue
		}
		for _, kc := range keys {
			payload, err := t.open(kc.key, v.implicit)
			if err != nil {
				first = err
				continue
			}
			claims, err := parseClaims(payload, rfc3339Date)
			if err != nil {
				return nil, err
			}
			_, hasIss := claims.raw["iss"]
			if owner, err := v.issuerFor(claims.Issuer, hasIss); err != nil || owner != is {
				return nil, newError(ReasonIssuer, "iss is not the issuer whose key decrypted the token")
			}
			return v.finishPASETO(is, kc, alg, kid, footer, claims, now)
		}
	}
	if first == nil {
		first = errors.New("unreachable")
	}
	return nil, first
}

func (v *Verifier) finishPASETO(is *issuer, kc keyChoice, alg, kid string, footer map[string]any, claims *Claims, now time.Time) (*Token, error) {
	if err := is.checkClaims(claims, now); err != nil {
		return nil, err
	}
	return &Token{
		Format: alg, Alg: alg, KID: kid, Header: footer, Claims: claims, Issuer: is.cfg.Issuer,
		key: kc.key, src: kc.src, gen: kc.gen, until: is.until(claims),
	}, nil
}
