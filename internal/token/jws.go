package token

import (
	"context"
	"strings"
	"time"
)

// joseHeader is a checked JOSE header.
type joseHeader struct {
	m              map[string]any
	alg, kid, typ  string
	hasKID, hasTyp bool
}

// parseHeaderBytes decodes and checks a protected header, in order: a JSON
// object with distinct members (malformed, duplicate_key), alg (alg_none),
// crit (crit_unsupported), jwk/jku/x5u/x5c (header_injection), kid
// (bad_kid).
func parseHeaderBytes(b []byte) (*joseHeader, error) {
	m, err := parseObject(b)
	if err != nil {
		return nil, objectError(err, ReasonMalformed, "the header")
	}
	return checkHeader(m)
}

func checkHeader(m map[string]any) (*joseHeader, error) {
	h := &joseHeader{m: m}
	alg, ok := m["alg"].(string)
	if !ok || alg == "" {
		return nil, newError(ReasonMalformed, "the header has no alg")
	}
	if strings.EqualFold(alg, "none") {
		return nil, newError(ReasonAlgNone, `alg "none" is never accepted`)
	}
	h.alg = alg
	if _, ok := m["crit"]; ok {
		// RFC 7515 §4.1.11: a recipient that does not understand a listed
		// extension must refuse; drawbridge understands none (RFC 7797's
		// b64 included).
		return nil, newError(ReasonCritUnsupported, "crit names extensions that are not supported")
	}
	if _, ok := m["b64"]; ok {
		return nil, newError(ReasonCritUnsupported, "unencoded payloads (b64) are not supported")
	}
	for _, p := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, ok := m[p]; ok {
			// RFC 8725 §3.10: keys come from configuration, never from the
			// token; nothing is fetched.
			return nil, newError(ReasonHeaderInjection, "the header carries a key or key URL ("+p+")")
		}
	}
	if v, ok := m["kid"]; ok {
		kid, isString := v.(string)
		if !isString {
			return nil, newError(ReasonBadKID, "kid is not a string")
		}
		if err := checkKID(kid); err != nil {
			return nil, err
		}
		h.kid, h.hasKID = kid, true
	}
	for _, name := range [...]string{"typ", "cty", "enc", "zip"} {
		if v, ok := m[name]; ok {
			s, isString := v.(string)
			if !isString {
				return nil, newError(ReasonMalformed, "header parameter "+name+" is not a string")
			}
			if name == "typ" {
				h.typ, h.hasTyp = s, true
			}
		}
	}
	return h, nil
}

// decodeCompactJWS decodes the three parts of header.payload.signature,
// which the caller has checked to hold exactly two dots.
func decodeCompactJWS(raw string) (header, payload, sig []byte, err error) {
	i, j := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.')
	hseg, pseg, sseg := raw[:i], raw[i+1:j], raw[j+1:]
	if hseg == "" || pseg == "" {
		// An empty payload is detached content, which a bearer token never
		// is. An empty signature (JWT-01's "none", JWT-02's stripped
		// signature) is left to the header and signature checks, which
		// give it a more telling reason.
		return nil, nil, nil, newError(ReasonMalformed, "a part is empty")
	}
	if header, err = decodeSegment(hseg); err != nil {
		return nil, nil, nil, err
	}
	if payload, err = decodeSegment(pseg); err != nil {
		return nil, nil, nil, err
	}
	if sig, err = decodeSegment(sseg); err != nil {
		return nil, nil, nil, err
	}
	return header, payload, sig, nil
}

// verifyCompactJWS verifies header.payload.signature (RFC 7515 §7.1).
func (v *Verifier) verifyCompactJWS(ctx context.Context, raw string, now time.Time) (*Token, error) {
	j := strings.LastIndexByte(raw, '.')
	hb, payload, sig, err := decodeCompactJWS(raw)
	if err != nil {
		return nil, err
	}
	h, err := parseHeaderBytes(hb)
	if err != nil {
		return nil, err
	}
	claims, err := parseClaims(payload, numericDate)
	if err != nil {
		return nil, err
	}
	_, hasIss := claims.raw["iss"]
	is, err := v.issuerFor(claims.Issuer, hasIss)
	if err != nil {
		return nil, err
	}
	kc, err := is.verifySig(ctx, h, []byte(raw[:j]), sig)
	if err != nil {
		return nil, err
	}
	if err := is.checkType(h.typ, h.hasTyp); err != nil {
		return nil, err
	}
	if err := is.checkClaims(claims, now); err != nil {
		return nil, err
	}
	return &Token{
		Format: "JWS", Alg: h.alg, KID: h.kid, Type: h.typ, Header: h.m, Claims: claims,
		Issuer: is.cfg.Issuer, key: kc.key, src: kc.src, gen: kc.gen, until: is.until(claims),
	}, nil
}

// verifySig finds the issuer's key for the header and checks the
// signature: alg_not_allowed, keys_unavailable, unknown_kid, key_mismatch,
// bad_signature.
func (is *issuer) verifySig(ctx context.Context, h *joseHeader, input, sig []byte) (keyChoice, error) {
	keys, err := is.keysFor(ctx, h.alg, h.kid, h.hasKID)
	if err != nil {
		return keyChoice{}, err
	}
	for _, kc := range keys {
		if verifySignature(h.alg, kc.key, input, sig) {
			return kc, nil
		}
	}
	return keyChoice{}, newError(ReasonBadSignature, "the signature does not verify")
}

// until is how long a verified token may be served from a cache: never
// past exp or the issuer's max age.
func (is *issuer) until(c *Claims) time.Time {
	var u time.Time
	if !c.Expiry.IsZero() {
		u = c.Expiry
	}
	if is.cfg.MaxAge > 0 && !c.IssuedAt.IsZero() {
		if a := c.IssuedAt.Add(is.cfg.MaxAge); u.IsZero() || a.Before(u) {
			u = a
		}
	}
	return u
}
