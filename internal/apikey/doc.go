// Package apikey issues and checks API keys: long random secrets that
// identify a calling program (a partner's server, a script), each under an
// id that logs, upstreams and rate limits see.
//
// # What an API key is worth
//
// An API key says weakly WHAT is calling. Shipped inside a mobile or web
// app it is public: anyone can pull it out of the binary or the browser and
// call the API as the app. Use keys for server-to-server callers that can
// keep a secret, or, in apps, as a label paired with attestation (which
// proves the genuine app is calling) — never as the proof itself.
//
// # Storage
//
// A credential is "dbk_<id>_<secret>": the id says which key it claims to
// be, and the secret is 256 random bits. Only HMAC-SHA-256(pepper, secret)
// is stored (store.APIKeys): the pepper, a server-side secret in the
// config, makes a copy of the database useless without it. The secrets are
// high-entropy, so no slow password hash is needed: nobody can guess one,
// with or without its hash, and checking one costs a microsecond.
//
// # Checking
//
// A Verifier caches each id's secrets for a short TTL, so a key in use
// costs one HMAC and a map look-up. Every change to keys moves the store's
// generation; entries read at an older generation than the one last polled
// are read again, so a revocation applies within one poll of the
// generation (half a second with service.Controls). Refusals are *Error
// values with a stable reason code: apikey.invalid (malformed, unknown id
// or wrong secret: one reason, so that the answer tells an attacker nothing
// about which ids exist), apikey.expired, apikey.revoked and
// apikey.unavailable (the store failed: fail closed).
package apikey
