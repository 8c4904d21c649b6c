package config

// APIKeys configures the API keys that apikey policies check
// (docs/apikeys.md). Keys live in state.durable and are managed with
// `drawbridge apikey`.
type APIKeys struct {
	// Pepper keys the hashes under which keys are stored (HMAC-SHA-256):
	// at least 32 bytes, secret, the same on every replica and for the
	// CLI. Use ${file:...}. Changing it invalidates every key.
	Pepper string `yaml:"pepper"`
	// CacheTTL bounds how long a key is served from memory; revocations
	// apply sooner, within a second. Default: 30s.
	CacheTTL Duration `yaml:"cache_ttl" jsonschema:"default=30s"`
}

// APIKeyPolicy requires an API key. A key says weakly WHAT calls: anyone
// can pull one out of an app. Pair it with attestation. Refusals are 401
// (apikey.missing, apikey.invalid, apikey.expired, apikey.revoked), 403
// (apikey.insufficient_scope), 400 (apikey.bad_request: two keys) and 503
// (apikey.unavailable).
type APIKeyPolicy struct {
	// Header carries the key. Default: X-Api-Key.
	Header string `yaml:"header" jsonschema:"default=X-Api-Key"`
	// Query, when set, also accepts the key in this query parameter, for
	// clients that cannot set headers. Query strings end up in logs and
	// browser history: prefer the header.
	Query string `yaml:"query"`
	// Scopes must all be granted to the key (403 beyond).
	Scopes []string `yaml:"scopes"`
	// ForwardID, when set, forwards the key's id to the upstream in this
	// header (removed from the client's request first). The key itself is
	// never forwarded.
	ForwardID string `yaml:"forward_id"`
}
