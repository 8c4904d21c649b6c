package token

import (
	"context"
	"errors"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Object is a verified JWS payload or a decrypted JWE plaintext, read
// without treating it as claims.
type Object struct {
	// Header is the JOSE header (for the JSON serialisations, the merged
	// header of the first signature or recipient).
	Header map[string]any
	// Payload is the verified payload or the plaintext.
	Payload []byte
}

// VerifyRaw verifies a JWS, or decrypts a JWE, without reading its
// payload as claims: every header, algorithm and key rule applies, the
// claim rules do not, and the keys are those of the verifier's sole
// issuer (a payload that is not claims names no issuer). It is for JOSE
// objects that are not bearer tokens, such as the RFC 7520 examples, and
// accepts the JSON serialisations when the Config allows them. detached
// is the payload of a JWS with detached content (RFC 7515 Appendix F).
// A JWE's plaintext is returned as it is, nested or not.
func (v *Verifier) VerifyRaw(ctx context.Context, raw string, detached []byte) (*Object, error) {
	if len(raw) > v.max {
		return nil, newError(ReasonTooLarge, "longer than the size cap")
	}
	if len(v.issuers) != 1 {
		return nil, errors.New("token: VerifyRaw needs a verifier with exactly one issuer")
	}
	is := v.issuers[0]
	if raw == "" {
		return nil, newError(ReasonMalformed, "empty")
	}
	if raw[0] == '{' {
		if !v.json {
			return nil, newError(ReasonJSONSerialization, "JSON serialisation where a compact token is expected")
		}
		m, err := parseObject([]byte(raw))
		if err != nil {
			return nil, objectError(err, ReasonMalformed, "the JSON serialisation")
		}
		if _, ok := m["ciphertext"]; ok {
			return v.rawJSONJWE(raw, m)
		}
		return v.rawJSONJWS(ctx, is, m, detached)
	}
	switch strings.Count(raw, ".") {
	case 2:
		return v.rawCompactJWS(ctx, is, raw, detached)
	case 4:
		if v.jwe == nil {
			return nil, newError(ReasonJWENotAccepted, "encrypted tokens are not accepted here")
		}
		return v.rawCompactJWE(raw)
	}
	return nil, newError(ReasonMalformed, "not three (JWS) or five (JWE) parts")
}

func (v *Verifier) rawCompactJWS(ctx context.Context, is *issuer, raw string, detached []byte) (*Object, error) {
	i := strings.IndexByte(raw, '.')
	j := strings.LastIndexByte(raw, '.')
	hseg, pseg, sseg := raw[:i], raw[i+1:j], raw[j+1:]
	if detached != nil {
		if pseg != "" {
			return nil, newError(ReasonMalformed, "detached content, but the token has a payload")
		}
		pseg = b64.EncodeToString(detached)
	}
	if hseg == "" || pseg == "" {
		return nil, newError(ReasonMalformed, "a part is empty")
	}
	return v.rawSignature(ctx, is, hseg, nil, pseg, sseg)
}

// rawSignature verifies one signature: the protected header segment, an
// unprotected header (JSON serialisation), the payload and signature
// segments.
func (v *Verifier) rawSignature(ctx context.Context, is *issuer, hseg string, unprotected map[string]any, pseg, sseg string) (*Object, error) {
	var hb []byte
	var err error
	if hseg != "" {
		if hb, err = decodeSegment(hseg); err != nil {
			return nil, err
		}
	}
	payload, err := decodeSegment(pseg)
	if err != nil {
		return nil, err
	}
	sig, err := decodeSegment(sseg)
	if err != nil {
		return nil, err
	}
	merged, err := mergeHeaders(hb, unprotected)
	if err != nil {
		return nil, err
	}
	h, err := checkHeader(merged)
	if err != nil {
		return nil, err
	}
	if _, err := is.verifySig(ctx, h, []byte(hseg+"."+pseg), sig); err != nil {
		return nil, err
	}
	return &Object{Header: merged, Payload: payload}, nil
}

// mergeHeaders joins a protected header (bytes, may be nil) and
// unprotected members, which must not overlap (RFC 7515 §7.2.1, RFC 7516
// §7.2.1). crit is only allowed in the protected part, and refused anyway.
func mergeHeaders(protected []byte, unprotected ...map[string]any) (map[string]any, error) {
	merged := map[string]any{}
	if protected != nil {
		m, err := parseObject(protected)
		if err != nil {
			return nil, objectError(err, ReasonMalformed, "the protected header")
		}
		merged = m
	}
	for _, u := range unprotected {
		for k, val := range u {
			if _, dup := merged[k]; dup {
				return nil, newError(ReasonDuplicateKey, "a header parameter is both protected and unprotected")
			}
			merged[k] = val
		}
	}
	return merged, nil
}

// rawJSONJWS verifies the JWS JSON serialisation (RFC 7515 §7.2), general
// or flattened. Every signature must verify.
func (v *Verifier) rawJSONJWS(ctx context.Context, is *issuer, m map[string]any, detached []byte) (*Object, error) {
	pseg, hasPayload := m["payload"].(string)
	if detached != nil {
		if hasPayload {
			return nil, newError(ReasonMalformed, "detached content, but the JWS has a payload")
		}
		pseg = b64.EncodeToString(detached)
	} else if !hasPayload {
		return nil, newError(ReasonMalformed, "the JWS has no payload")
	}
	var sigs []any
	if s, ok := m["signatures"]; ok {
		if _, flat := m["signature"]; flat {
			return nil, newError(ReasonMalformed, "both general and flattened signatures")
		}
		arr, ok := s.([]any)
		if !ok || len(arr) == 0 {
			return nil, newError(ReasonMalformed, "signatures is not a non-empty array")
		}
		sigs = arr
	} else {
		sigs = []any{m}
	}
	var first *Object
	for _, s := range sigs {
		sm, ok := s.(map[string]any)
		if !ok {
			return nil, newError(ReasonMalformed, "a signature is not an object")
		}
		prot, _ := sm["protected"].(string)
		sseg, ok := sm["signature"].(string)
		if !ok || sseg == "" {
			return nil, newError(ReasonMalformed, "a signature is missing")
		}
		var unprot map[string]any
		if hv, ok := sm["header"]; ok {
			if unprot, ok = hv.(map[string]any); !ok {
				return nil, newError(ReasonMalformed, "an unprotected header is not an object")
			}
		}
		obj, err := v.rawSignature(ctx, is, prot, unprot, pseg, sseg)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = obj
		}
	}
	return first, nil
}

func (v *Verifier) rawCompactJWE(raw string) (*Object, error) {
	h, plain, err := v.decryptCompactJWE(raw)
	if err != nil {
		return nil, err
	}
	return &Object{Header: h.m, Payload: plain}, nil
}

// rawJSONJWE decrypts the JWE JSON serialisation (RFC 7516 §7.2). Every
// recipient's header must pass the JWE policy; the first recipient with a
// fitting key is decrypted.
func (v *Verifier) rawJSONJWE(raw string, m map[string]any) (*Object, error) {
	if v.jwe == nil {
		return nil, newError(ReasonJWENotAccepted, "encrypted tokens are not accepted here")
	}
	for _, name := range [...]string{"protected", "iv", "ciphertext", "tag", "aad", "encrypted_key"} {
		if s, ok := m[name]; ok {
			seg, isString := s.(string)
			if !isString {
				return nil, newError(ReasonMalformed, "JWE member "+name+" is not a string")
			}
			if _, err := decodeSegment(seg); err != nil {
				return nil, err
			}
		}
	}
	var prot []byte
	if s, ok := m["protected"].(string); ok {
		prot, _ = decodeSegment(s)
	}
	shared, _ := m["unprotected"].(map[string]any)
	var recips []any
	if r, ok := m["recipients"]; ok {
		arr, ok := r.([]any)
		if !ok || len(arr) == 0 {
			return nil, newError(ReasonMalformed, "recipients is not a non-empty array")
		}
		recips = arr
	} else {
		recips = []any{map[string]any{"header": m["header"]}}
	}
	var chosen *Key
	var header map[string]any
	var firstErr error
	for _, r := range recips {
		rm, ok := r.(map[string]any)
		if !ok {
			return nil, newError(ReasonMalformed, "a recipient is not an object")
		}
		var per map[string]any
		if hv, ok := rm["header"]; ok && hv != nil {
			if per, ok = hv.(map[string]any); !ok {
				return nil, newError(ReasonMalformed, "a recipient header is not an object")
			}
		}
		merged, err := mergeHeaders(prot, shared, per)
		if err != nil {
			return nil, err
		}
		h, err := checkHeader(merged)
		if err != nil {
			return nil, err
		}
		epk, err := v.jwe.checkJWEHeader(h)
		if err != nil {
			return nil, err
		}
		if chosen != nil {
			continue
		}
		keys, err := v.jwe.decryptionKeys(h, epk)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		chosen, header = keys[0], merged
	}
	if chosen == nil {
		return nil, firstErr
	}
	obj, err := jose.ParseEncryptedJSON(raw, v.jwe.algList, v.jwe.encList)
	if err != nil {
		return nil, newError(ReasonMalformed, "the JWE does not parse")
	}
	_, _, plain, err := obj.DecryptMulti(keyMaterial(chosen))
	if err != nil {
		return nil, newError(ReasonDecrypt, "the JWE does not decrypt with the configured keys")
	}
	if _, zipped := header["zip"]; zipped && len(plain) > v.jwe.maxZip {
		return nil, newError(ReasonJWEZip, "the inflated plaintext is larger than the cap")
	}
	return &Object{Header: header, Payload: plain}, nil
}
