// Package client is the app side of drawbridge's attestation protocol
// (docs/protocol.md), for apps, tools and tests written in Go: it proves
// to the gateway that requests come from a genuine app install, and that
// each one was made by the install that attested.
//
// # Why
//
// A secret shipped inside an app is not a secret, and a bearer token read
// off the wire works for whoever copied it. The gateway therefore wants two
// things with every protected request: an attestation token, earned by
// platform evidence (App Attest, Android key attestation, Play Integrity,
// or development attestation for simulators and CI), and a proof made with
// the request-signing key K that the token is bound to (cnf.jkt). K never
// leaves the install, so a copied token is useless.
//
// # The flow
//
// Transport is an http.RoundTripper. For requests to the gateway's origin
// (Transport.Gateway) it:
//
//  1. fetches a single-use challenge ({prefix}/v1/attest/challenge);
//  2. forms the client data, exactly {"challenge":"…","jkt":"…"} where jkt
//     is the RFC 7638 thumbprint of K, and hashes it;
//  3. has the Attestor attest over that hash and posts the evidence to
//     {prefix}/v1/attest/{platform} with K's public JWK;
//  4. caches the token and refreshes it at 80% of its lifetime (by
//     assertion when the Attestor is an Asserter), and when the gateway
//     answers attestation.expired or attestation.token_revoked, attests
//     again and retries the request once;
//  5. sends the token in Attestation-Token with a proof of possession of
//     K: an HTTP message signature (RFC 9421) over @method, @authority,
//     @path, @query, content-digest (with a body), the token and the
//     Authorization header; or a DPoP proof (RFC 9449) with ath when the
//     request carries an access token.
//
// Requests to any other origin pass through untouched: the token and
// proofs are for the gateway only.
//
// # Keys
//
// K is an ECDSA P-256 crypto.Signer: a key in memory by default, or a
// hardware-backed one (a PKCS#11 or TPM signer, a platform keystore) set in
// Transport.Key. The gateway registers an attested install with one K for
// good: keep K as long as the install (the device key) lives.
//
// # Development attestation
//
// DevAttestor signs with a development device key that a development CA
// certified (drawbridge attestation dev-ca, dev-device); LoadDevAttestor
// reads what dev-device wrote. Gateways accept it only for apps whose
// policy allows the development environment.
//
// # Dependencies
//
// The package uses the standard library only, so that any Go program can
// import it without pulling in the gateway's dependencies (a test keeps it
// so).
package client
