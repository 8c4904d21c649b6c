// Package token is drawbridge's token core: it verifies bearer tokens
// (JWS, JWE-nested JWS, PASETO v4) and issues them, for user
// authentication today and for every later layer that reads a token
// (attestation tokens, Play Integrity verdicts, App Check and Approov
// tokens, DPoP proofs).
//
// Most token breaches come from verifiers that let the token say how it
// is to be checked: "alg": "none", an HMAC keyed with a public key, a key
// fetched from the token's own jku. Here the configuration decides
// everything and the token is only checked against it.
//
// # Libraries
//
// JOSE comes from go-jose v4 (github.com/go-jose/go-jose/v4) rather than
// jwx v3: it is the one JOSE library already in the dependency tree of
// the OIDC stack (coreos/go-oidc v3 uses it), it makes callers list the
// acceptable algorithms at parse time, and it never fetches jku or x5u on
// its own. go-jose parses and validates JWKs (RFC 7517; points on their
// curve), computes RFC 7638 thumbprints, decrypts JWE (RFC 7516: RSA-OAEP,
// ECDH-ES, AES key wrap, PBES2, dir; AES-GCM and AES-CBC-HMAC) and signs.
// For verification the core splits and decodes the token itself, and the
// last step is one call to crypto/ecdsa, crypto/ed25519, crypto/rsa or
// crypto/hmac (verifySignature): the signing input is already at hand,
// each algorithm's exact signature encoding is enforced in one place, and
// the Wycheproof vectors run through exactly that code.
//
// PASETO v4 is implemented in paseto.go from vetted primitives only
// (crypto/ed25519; XChaCha20 from golang.org/x/crypto/chacha20; keyed
// BLAKE2b from golang.org/x/crypto/blake2b; the spec's PAE), because no
// maintained Go PASETO v4 library can be had here (aidantwoods/go-paseto is
// refused by the module proxy). Tags are compared in constant time, and
// all 17 official vectors pass.
//
// # What is refused, in order
//
// A refusal is an *Error whose Reason is the first check that failed.
// For a compact JWS the checks run in this order:
//
//  1. token.too_large: longer than Config.MaxTokenBytes (16 KiB), before
//     anything is split or decoded (JWT-28, CVE-2025-27144).
//  2. token.json_serialization: a JSON serialisation where a compact token
//     is expected (JWT-26; VerifyRaw reads JSON only when asked).
//  3. token.malformed: not three (JWS) or five (JWE) dot-separated parts,
//     an empty header or payload.
//  4. token.jwe_not_accepted: five parts where no JWE is configured.
//  5. token.bad_encoding: any part not strict base64url: padding, '+',
//     '/', whitespace, non-zero trailing bits (RFC 7515 §2, RFC 4648 §3.5).
//  6. token.malformed, token.duplicate_key: the header is not a JSON
//     object of distinct members (RFC 8725 §2.6: another parser may pick
//     the other copy); valid UTF-8, nesting of at most 32.
//  7. token.alg_none: alg "none" in any spelling (RFC 8725 §3.1).
//  8. token.crit_unsupported: any crit (RFC 7515 §4.1.11), or b64.
//  9. token.header_injection: jwk, jku, x5u or x5c: keys come only from
//     configuration and nothing is fetched (RFC 8725 §3.10).
//  10. token.bad_kid: kid longer than 128 bytes, or with control, path,
//     quote or shell characters; it is an exact-match key, never a path.
//  11. token.bad_claims, token.duplicate_key: the payload is not a JSON
//     object of distinct members, or a registered claim has the wrong type
//     (RFC 7519 §4.1; exp "9999999999", 1e309, null ...).
//  12. token.issuer: iss is not a configured issuer, compared exactly;
//     only that issuer's keys are used (RFC 8725 §3.8).
//  13. token.alg_not_allowed: alg is not on the issuer's allow-list.
//  14. token.keys_unavailable: a remote key set was never fetched.
//  15. token.unknown_kid: no key of the issuer has the kid, after at most
//     one rate-limited refetch; without kid, not exactly one key fits.
//  16. token.key_mismatch: the key's type, curve or declared alg does not
//     agree with alg (RFC 8725 §3.1): an RSA or EC key with HS256, a key
//     declaring RS256 used with PS256.
//  17. token.bad_signature: the signature is not the exact encoding of
//     its algorithm (ECDSA P1363 r||s of exact length with r, s in
//     [1, n-1], RFC 7518 §3.4; Ed25519 with S < L) or does not verify.
//  18. token.type: typ is not the issuer's (RFC 8725 §3.11; RFC 9068 §2.1
//     "at+jwt"); without one configured, only absent, "JWT" and "at+jwt".
//  19. token.missing_exp, token.expired (now >= exp + leeway, RFC 7519
//     §4.1.4), token.not_yet_valid (nbf or iat after now + leeway),
//     token.too_old (iat before now - max age), token.audience (RFC 7519
//     §4.1.3), token.missing_claim.
//
// A compact JWE (RFC 7516 §7.1) runs 1-10 on its header, then
// token.jwe_alg_not_allowed (alg and enc allow-lists; RSA1_5 and PBES2
// only when listed), token.jwe_zip (compression off by default),
// token.jwe_p2c (PBES2 count capped before any key derivation),
// token.jwe_bad_epk (an ECDH-ES ephemeral key off its curve, or not on the
// recipient's), token.unknown_kid and token.key_mismatch for the
// decryption key, token.decrypt, then token.jwe_unsigned unless the
// plaintext is a compact JWS, which then runs the whole JWS order.
// PASETO v4 runs 1, 3 (version and purpose), 5, the footer's JSON and
// kid, then 11-19 with RFC 3339 times; a v4.local token is opened with
// the keys of the issuers that allow it, and its iss must be the issuer
// whose key opened it (token.decrypt when none does).
//
// # Self-signed proofs
//
// A DPoP proof (RFC 9449) is the one JWS that carries its own key: it
// proves possession of a key, not who holds it. VerifySelfSigned checks
// such a JWS with the same strict parser and signature code as tokens,
// with the rules that differ: the key comes only from the header's jwk
// (public, asymmetric, fitting alg; kid, jku, x5u and x5c are refused),
// only asymmetric algorithms of the caller's list are accepted, and the
// result carries the key's RFC 7638 thumbprint for the caller to compare
// with what a token binds (cnf.jkt). Policy (htm, htu, iat, jti) belongs to
// internal/dpop.
//
// # Keys
//
// Keys come from a *KeySet (a JWKS or key file, ParseKeys) or a
// *RemoteKeySet (a JWKS URL or OpenID Connect discovery, whose document's
// issuer must equal the configured issuer). Remote sets are cached for
// Cache-Control max-age within [MinRefresh, MaxRefresh], refreshed in the
// background, and refetched on an unknown kid at most once per
// UnknownKIDInterval however many tokens ask. Each fetch replaces the set
// whole: a key removed at the source stops verifying at the next fetch.
// A JWKS URL that publishes private or symmetric keys is refused; HMAC
// keys come only from files configured for their issuer.
//
// # Cache
//
// A Cache keyed by the SHA-256 of the token makes a repeated token cost a
// map look-up instead of a signature check; entries end at exp, at the
// issuer's max age, at the cache TTL, and as soon as the key set their
// key came from changes (its generation).
//
// Errors never contain the token, claim values or key material; their
// text is fixed per check.
package token
