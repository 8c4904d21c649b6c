package token

import "crypto/ecdh"

// Internals the external tests drive directly.

// VerifySignature is the core's one signature check (Wycheproof runs
// through it).
func VerifySignature(alg string, k *Key, input, sig []byte) bool {
	return verifySignature(alg, k, input, sig)
}

// ParseEPK is the JWE epk check (the Wycheproof ECDH vectors run through
// it).
func ParseEPK(v any) (*ecdh.PublicKey, error) { return parseEPK(v) }

// PASETOEncryptNonce encrypts with a given nonce (the vectors fix it).
func PASETOEncryptNonce(key, n, payload, footer, implicit []byte) (string, error) {
	return pasetoEncryptNonce(key, n, payload, footer, implicit)
}

// ParseObject is the strict JSON object parser.
func ParseObject(b []byte) (map[string]any, error) { return parseObject(b) }

// CacheUntil reports when a cached token stops being served.
func (t *Token) CacheUntil() any { return t.until }

// TTLFor is how long a fetched set with these response headers is used.
func (r *RemoteKeySet) TTLFor(h map[string][]string) any { return r.ttl(h) }
