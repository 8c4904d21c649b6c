package token

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// DefaultMaxSelfSignedBytes caps a self-signed JWS when
// SelfSignedOptions.MaxBytes is zero: a proof is a small header with one
// public key and a few claims.
const DefaultMaxSelfSignedBytes = 8 << 10

// SelfSignedOptions say which self-signed JWS VerifySelfSigned accepts.
type SelfSignedOptions struct {
	// Algorithms is the allow-list; required. Only asymmetric JWS
	// algorithms count: an HMAC or PASETO algorithm listed here is never
	// accepted, since the key is public.
	Algorithms []string
	// Type, if set, is the typ the header must carry (explicit typing,
	// RFC 8725 §3.11: compared case-insensitively, an "application/"
	// prefix ignored). It is checked before the signature, so that a JWS
	// meant for another purpose is refused for that reason.
	Type string
	// MaxBytes caps the JWS before anything is decoded. If zero,
	// DefaultMaxSelfSignedBytes.
	MaxBytes int
}

// SelfSigned is a compact JWS verified with the public key its own header
// carries (jwk): a proof that its sender holds that key, such as a DPoP
// proof (RFC 9449 §4.2). It says nothing about who holds the key: the
// caller binds Thumbprint to something it trusts (a token's cnf.jkt).
type SelfSigned struct {
	// Alg and Type are the header's alg and typ.
	Alg, Type string
	// Header is the protected header. It must not be modified.
	Header map[string]any
	// Claims are the payload's claims, parsed as strictly as a token's
	// (registered claims of the right type, no member twice).
	Claims *Claims
	// Key is the public key of the header's jwk.
	Key *Key
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of Key, base64url.
	Thumbprint string
}

// VerifySelfSigned verifies a compact JWS with the public JWK of its
// header. It runs the token checks that apply, in this order, each
// refusal an *Error with its reason: too_large, json_serialization,
// malformed (not three parts, an empty header or payload), bad_encoding,
// malformed or duplicate_key (the header), alg_none, crit_unsupported,
// header_injection (kid, jku, x5u or x5c: here the key is named only by
// value, in jwk), type, alg_not_allowed, key_mismatch (jwk absent, not a
// public key, private or symmetric material, or not fitting alg),
// bad_signature, then bad_claims or duplicate_key (the payload).
func VerifySelfSigned(raw string, o SelfSignedOptions) (*SelfSigned, error) {
	max := o.MaxBytes
	if max <= 0 {
		max = DefaultMaxSelfSignedBytes
	}
	if len(raw) > max {
		return nil, newError(ReasonTooLarge, "longer than the size cap")
	}
	if raw == "" || raw[0] == '{' {
		if raw == "" {
			return nil, newError(ReasonMalformed, "empty")
		}
		return nil, newError(ReasonJSONSerialization, "JSON serialisation where a compact JWS is expected")
	}
	if strings.Count(raw, ".") != 2 {
		return nil, newError(ReasonMalformed, "not three parts")
	}
	j := strings.LastIndexByte(raw, '.')
	hb, payload, sig, err := decodeCompactJWS(raw)
	if err != nil {
		return nil, err
	}
	m, err := parseObject(hb)
	if err != nil {
		return nil, objectError(err, ReasonMalformed, "the header")
	}
	jwk, hasJWK := m["jwk"]
	delete(m, "jwk") // checkHeader refuses jwk in issuer-signed tokens
	h, err := checkHeader(m)
	if hasJWK {
		m["jwk"] = jwk
	}
	if err != nil {
		return nil, err
	}
	if h.hasKID {
		// A kid would name a key from somewhere else; a proof's key is
		// the one it carries.
		return nil, newError(ReasonHeaderInjection, "the header names a key by kid")
	}
	if o.Type != "" && (!h.hasTyp || normaliseType(h.typ) != normaliseType(o.Type)) {
		return nil, newError(ReasonType, "typ is not the one required")
	}
	if !allowedSelfSigned(o.Algorithms, h.alg) {
		return nil, newError(ReasonAlgNotAllowed, "alg is not allowed")
	}
	k, err := embeddedKey(jwk, hasJWK, h.alg)
	if err != nil {
		return nil, err
	}
	if !verifySignature(h.alg, k, []byte(raw[:j]), sig) {
		return nil, newError(ReasonBadSignature, "the signature does not verify with the header's jwk")
	}
	claims, err := parseClaims(payload, numericDate)
	if err != nil {
		return nil, err
	}
	thumb, err := Thumbprint(k.Public())
	if err != nil {
		return nil, newError(ReasonKeyMismatch, "the header's jwk has no thumbprint")
	}
	return &SelfSigned{Alg: h.alg, Type: h.typ, Header: m, Claims: claims, Key: k, Thumbprint: thumb}, nil
}

// allowedSelfSigned reports whether alg is listed and asymmetric.
func allowedSelfSigned(list []string, alg string) bool {
	info, ok := algs[alg]
	if !ok || info.kty == "oct" || info.paseto {
		return false
	}
	for _, a := range list {
		if a == alg {
			return true
		}
	}
	return false
}

// embeddedKey reads the header's jwk: a public key, no private or
// symmetric material, fitting alg.
func embeddedKey(v any, present bool, alg string) (*Key, error) {
	jm, ok := v.(map[string]any)
	if !present || !ok {
		return nil, newError(ReasonKeyMismatch, "the header has no jwk object")
	}
	b, err := json.Marshal(jm)
	if err != nil {
		return nil, newError(ReasonKeyMismatch, "the header's jwk is not a JWK")
	}
	k, err := jwkFromMap(b, jm)
	switch {
	case err != nil:
		return nil, newError(ReasonKeyMismatch, "the header's jwk is not a valid public JWK")
	case k.HasPrivate() || k.pub == nil:
		// RFC 9449 §4.2: the jwk must not contain a private key.
		return nil, newError(ReasonKeyMismatch, "the header's jwk holds private or symmetric material")
	case !k.fits(alg):
		return nil, newError(ReasonKeyMismatch, "the header's jwk does not fit alg")
	}
	return k, nil
}

// FindKeys returns the keys of src whose kid is kid, for callers that
// look keys up by id outside token verification (HTTP message signatures
// name theirs by keyid). A remote set is refetched once, rate-limited,
// when none has the kid. The error is an *Error: keys_unavailable when a
// remote set has never been fetched, unknown_kid when no key has the kid.
func FindKeys(ctx context.Context, src KeySource, kid string) ([]*Key, error) {
	if src == nil {
		return nil, errors.New("token: no key source")
	}
	set := src.current()
	found := lookupKeys(set, kid, true)
	if len(found) == 0 {
		set = src.refetch(ctx)
		found = lookupKeys(set, kid, true)
	}
	if len(found) == 0 {
		if _, remote := src.(*RemoteKeySet); remote && set.gen == 0 {
			return nil, newError(ReasonKeysUnavailable, "the key set has not been fetched yet")
		}
		return nil, newError(ReasonUnknownKID, "no key has this kid")
	}
	return found, nil
}
