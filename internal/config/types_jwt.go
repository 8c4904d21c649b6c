package config

// Issuer is a trusted token issuer: where its keys come from and how its
// tokens are checked. Keys come from at least one of discovery, jwks_url
// and jwks_file; a kid is looked up in all of them.
type Issuer struct {
	// Issuer is the exact iss value of the issuer's tokens (RFC 7519
	// §4.1.1), compared byte for byte: a trailing slash or a change of
	// case is another issuer.
	Issuer string `yaml:"issuer" jsonschema:"required"`
	// Discovery finds the keys by OpenID Connect discovery: the document
	// at issuer + /.well-known/openid-configuration, whose issuer must
	// equal Issuer, names the jwks_uri.
	Discovery bool `yaml:"discovery"`
	// JWKSURL is a JWK Set URL (https; http only to a loopback address).
	// The set is cached for its Cache-Control max-age within refresh.min
	// and refresh.max, refreshed in the background, and fetched again on
	// an unknown kid at most once per refresh.unknown_kid_interval. A set
	// that publishes private or symmetric keys is refused.
	JWKSURL string `yaml:"jwks_url"`
	// JWKSFile is a key file read at every config load: a JWK Set, one
	// JWK, PEM keys, or a PASERK (k4.local., k4.public.). HMAC secrets and
	// PASETO v4.local keys can only come from here.
	JWKSFile string `yaml:"jwks_file"`
	// Algorithms is the allow-list: ES256, ES384, ES512, EdDSA, RS256,
	// RS384, RS512, PS256, PS384, PS512, HS256, HS384, HS512, v4.public,
	// v4.local. A token's alg, its key's type and the key's declared alg
	// must all agree; "none" is never accepted.
	Algorithms []string `yaml:"algorithms" jsonschema:"required"`
	// Audiences: a token's aud must name one of them (RFC 7519 §4.1.3,
	// RFC 8725 §3.9).
	Audiences []string `yaml:"audiences" jsonschema:"required"`
	// Leeway tolerates clock skew in exp, nbf and iat. Default: 30s; 0s
	// for none.
	Leeway *Duration `yaml:"leeway" jsonschema:"default=30s"`
	// Type is the typ a JWT must carry, such as at+jwt (RFC 9068 §2.1), so
	// that an ID token is never taken for an access token. Empty: typ may
	// be absent, JWT or at+jwt.
	Type string `yaml:"type"`
	// MaxAge refuses tokens issued (iat) longer ago, and tokens without
	// iat. Default: 0, no limit beyond exp.
	MaxAge Duration `yaml:"max_age"`
	// Require lists claims every token must have.
	Require []string `yaml:"require"`
	// AllowMissingExp accepts tokens without exp. Off by default: RFC
	// 9068 §2.2 requires exp in access tokens.
	AllowMissingExp bool `yaml:"allow_missing_exp"`
	// Refresh bounds how remote key sets are refreshed.
	Refresh KeyRefresh `yaml:"refresh"`
}

// KeyRefresh bounds the refresh of a remote key set.
type KeyRefresh struct {
	// Min is the shortest time a fetched set is used. Default: 1m.
	Min Duration `yaml:"min" jsonschema:"default=1m"`
	// Max is the longest time a fetched set is used; a removed key stops
	// verifying within it. Default: 1h.
	Max Duration `yaml:"max" jsonschema:"default=1h"`
	// UnknownKIDInterval is the least time between fetches caused by
	// tokens naming an unknown kid. Default: 1m.
	UnknownKIDInterval Duration `yaml:"unknown_kid_interval" jsonschema:"default=1m"`
}

// JWTPolicy requires a bearer token. Refusals are 401 with a
// WWW-Authenticate: Bearer challenge (RFC 6750 §3), or 403 when the token
// is valid but lacks a scope or a claim.
type JWTPolicy struct {
	// Issuers names the entries of the top-level issuers section whose
	// tokens are accepted; a token's iss picks one.
	Issuers []string `yaml:"issuers" jsonschema:"required"`
	// Cookie, when set, reads the token from this cookie in requests
	// without an Authorization header. A request with both is refused.
	Cookie string `yaml:"cookie"`
	// Schemes are the Authorization schemes accepted: Bearer (RFC 6750)
	// and DPoP (RFC 9449 §7.1), whose token a dpop layer later on the
	// route must back with a proof. A token bound to a DPoP key (cnf.jkt)
	// is refused with any scheme but DPoP, and never read from the cookie
	// (RFC 9449 §7.2): it is not a bearer token. Default: [Bearer].
	Schemes []string `yaml:"schemes"`
	// Scopes must all be granted, in the space-separated scope claim or
	// the scp array (403 jwt.insufficient_scope).
	Scopes []string `yaml:"scopes"`
	// Claims are rules every token must meet (403 jwt.claim_mismatch).
	Claims []ClaimRule `yaml:"claims"`
	// Forward maps upstream header names to claims, such as
	// {X-User-Sub: sub}. The named headers are always removed from the
	// client's request first, so a client cannot forge them; a claim that
	// is absent (or not text) leaves its header unset.
	Forward map[string]string `yaml:"forward"`
	// JWE accepts encrypted tokens. Without it, JWEs are refused.
	JWE *JWEPolicy `yaml:"jwe"`
	// MaxTokenBytes caps the token's length; longer tokens are refused
	// before they are parsed. Default: 16KiB.
	MaxTokenBytes ByteSize `yaml:"max_token_bytes" jsonschema:"default=16KiB"`
	// Cache remembers verified tokens.
	Cache TokenCache `yaml:"cache"`
}

// ClaimRule is a condition on one claim. Set exactly one of equals,
// contains and one_of.
type ClaimRule struct {
	// Claim is the claim's name.
	Claim string `yaml:"claim" jsonschema:"required"`
	// Equals: the claim is this string (a number or boolean as written).
	Equals string `yaml:"equals"`
	// Contains: the claim is an array with this string, or a
	// space-separated string with this word.
	Contains string `yaml:"contains"`
	// OneOf: the claim is one of these strings.
	OneOf []string `yaml:"one_of"`
}

// JWEPolicy accepts encrypted tokens (RFC 7516) whose plaintext is a
// signed token of a trusted issuer.
type JWEPolicy struct {
	// KeysFile is a JWK Set of the gateway's decryption keys (private).
	KeysFile string `yaml:"keys_file" jsonschema:"required"`
	// Algorithms is the key management allow-list. Default: RSA-OAEP-256,
	// ECDH-ES, ECDH-ES+A256KW, dir. PBES2-* only when listed; RSA1_5
	// never.
	Algorithms []string `yaml:"algorithms"`
	// Encryption is the content encryption allow-list. Default: A256GCM.
	Encryption []string `yaml:"encryption"`
	// MaxP2C caps the PBES2 iteration count, checked before any key
	// derivation. Default: 10000.
	MaxP2C int `yaml:"max_p2c" jsonschema:"default=10000"`
	// AllowZip accepts compressed plaintexts (zip DEF). Off by default.
	AllowZip bool `yaml:"allow_zip"`
	// MaxZipBytes caps an inflated plaintext. Default: 64KiB.
	MaxZipBytes ByteSize `yaml:"max_zip_bytes" jsonschema:"default=64KiB"`
}

// TokenCache is the verified-token cache: a token seen again costs a hash
// and a map look-up instead of a signature check. Entries end at the
// token's exp, at ttl, and when the key set of their key changes.
type TokenCache struct {
	// Disabled turns the cache off.
	Disabled bool `yaml:"disabled"`
	// Size bounds the number of entries. Default: 10000.
	Size int `yaml:"size" jsonschema:"default=10000"`
	// TTL bounds how long an entry is served. Default: 5m.
	TTL Duration `yaml:"ttl" jsonschema:"default=5m"`
}
