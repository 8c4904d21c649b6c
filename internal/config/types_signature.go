package config

// SignaturePolicy requires an HTTP message signature (RFC 9421) made over
// the request as the client sent it: its method, authority, path and, with
// a body, its Content-Digest (RFC 9530), which is checked against the body
// before anything is forwarded. Nothing on the way can change what the
// signature covers, and with a nonce the signature cannot be replayed.
// Refusals are 401 (signature.*), 413 when the body is larger than
// max_body_bytes, and 503 when the replay guard's store is down.
type SignaturePolicy struct {
	// Keys are verification keys by keyid: shared secrets (HMAC) and
	// public keys of callers.
	Keys map[string]SignatureKey `yaml:"keys"`
	// JWKSURL is a JWK Set URL of callers' public keys, the keyid being a
	// key's kid (https; http only to a loopback address). It is fetched
	// and refreshed as issuers' key sets are.
	JWKSURL string `yaml:"jwks_url"`
	// JWKSFile is a JWK Set file of public keys by kid, read at every
	// config load.
	JWKSFile string `yaml:"jwks_file"`
	// Attested accepts the attested app install's request-signing key
	// (docs/protocol.md §5): the keyid is the key's RFC 7638 thumbprint,
	// which the attestation token names in cnf.jkt, and the public key is
	// the token's cnf.jwk. It needs an attestation layer earlier on the
	// route; after one, requests must be signed with that key only.
	Attested bool `yaml:"attested"`
	// Algorithms is the allow-list: hmac-sha256, ed25519,
	// ecdsa-p256-sha256, rsa-pss-sha512, rsa-v1_5-sha256. Default: all but
	// rsa-v1_5-sha256. The key decides the algorithm, never the message.
	Algorithms []string `yaml:"algorithms"`
	// Required are the components the signature must cover, as component
	// identifiers ("@method", "@query-param;name=\"id\"", "content-type").
	// Default: @method, @authority and @path, and content-digest when the
	// request has a body. A signature that covers nothing is always
	// refused (RFC 9421 §7.2.1).
	Required []string `yaml:"required"`
	// Label selects the signature to check. Default: the first one.
	Label string `yaml:"label"`
	// Tag is the tag parameter signatures must carry, binding them to this
	// API (RFC 9421 §2.3). Default: not checked.
	Tag string `yaml:"tag"`
	// MaxAge is how old a signature's created may be. Default: 5m.
	MaxAge Duration `yaml:"max_age" jsonschema:"default=5m"`
	// Skew is the clock skew tolerated on created and expires. Default: 30s.
	Skew Duration `yaml:"skew" jsonschema:"default=30s"`
	// Nonce is "required" (default): every signature carries a nonce,
	// accepted once through the replay guard (state.hot); or "off": no
	// replay protection beyond max_age, for callers that cannot keep
	// state.
	Nonce string `yaml:"nonce" jsonschema:"enum=required,enum=off,default=required"`
	// Origin is the public scheme and authority clients sign against,
	// such as https://api.example.com, for a gateway behind a load
	// balancer that terminates TLS. Default: https when the client reached
	// the gateway over TLS (or a trusted proxy says so), else http, and the
	// request's Host.
	Origin string `yaml:"origin"`
	// MaxBodyBytes bounds the body read to check its Content-Digest (413
	// beyond). Default: 1MiB, and never more than the route's
	// max_body_bytes.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes" jsonschema:"default=1MiB"`
}

// SignatureKey is one verification key. Set file or secret.
type SignatureKey struct {
	// Alg is the key's algorithm. Default: from the key (ed25519,
	// ecdsa-p256-sha256, rsa-pss-sha512; hmac-sha256 for a secret).
	Alg string `yaml:"alg"`
	// File is a public key: PEM or a JWK.
	File string `yaml:"file"`
	// Secret is an HMAC shared secret, base64, at least 32 bytes. Use
	// ${file:...}.
	Secret string `yaml:"secret"`
}
