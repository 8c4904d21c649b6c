// Package dpop verifies DPoP proofs (OAuth 2.0 Demonstrating Proof of
// Possession, RFC 9449): a JWS the client signs for each request with a
// key it keeps, carrying that key's public half, the request's method and
// URI, the time and a single-use id.
//
// # Why
//
// A bearer token works for whoever holds it: copied from a log, a proxy or
// a compromised device, it is as good as the original. A DPoP-bound token
// names a key (cnf.jkt, RFC 9449 §6) and is only accepted with a proof made
// by that key for this very request. The proof alone proves nothing about
// who the client is, only that it holds a key: the caller binds the key to
// something it trusts by passing the thumbprints credentials name in
// Request.BoundKeys (an access token's cnf.jkt, an attestation token's).
//
// # Checks, in order (RFC 9449 §4.3)
//
//  1. dpop.missing, dpop.malformed: exactly one DPoP field value.
//  2. The JWS, by internal/token's strict parser and the key it carries:
//     dpop.too_large, dpop.malformed, dpop.bad_type (typ is dpop+jwt),
//     dpop.alg_not_allowed (asymmetric algorithms of the allow-list only),
//     dpop.bad_key (jwk absent, private, symmetric, not fitting alg; kid,
//     jku, x5u or x5c naming a key elsewhere), dpop.invalid_signature.
//  3. dpop.missing_claim: jti, htm, htu and iat.
//  4. dpop.method_mismatch (htm), dpop.uri_mismatch (htu, compared after
//     RFC 3986 §6 normalisation, query and fragment ignored).
//  5. dpop.use_nonce: a server nonce is required and the proof has none, or
//     one this server did not issue within its lifetime (RFC 9449 §8, §9).
//  6. dpop.iat_in_future, dpop.too_old: iat outside the window.
//  7. dpop.ath_mismatch: with an access token, ath must be its hash.
//  8. dpop.key_mismatch: the proof's key is not one a credential binds.
//  9. dpop.replayed, dpop.unavailable: the jti is claimed once through the
//     replay guard (store.Hot), keyed by the proof's key, for as long as the
//     proof could be accepted. Last, so that only a proof that passed every
//     other check consumes its jti.
//
// Refusals are *Error values with a stable reason code and no HTTP status:
// the gateway maps codes to statuses and WWW-Authenticate challenges.
// Time is injected (Verifier.Now), so recorded proofs such as RFC 9449's
// examples verify at the time they were made, and are refused at any other.
package dpop
