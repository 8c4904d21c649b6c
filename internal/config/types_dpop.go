package config

// DPoPPolicy requires a DPoP proof (RFC 9449) with every request: a JWS
// the client signs with its key for this method and URI, once. The proof's
// key must be the one the request's credentials are bound to: the access
// token's cnf.jkt (send it as "Authorization: DPoP <token>"; the jwt layer
// must list DPoP in schemes) and the attestation token's. A jwt or
// attestation layer must come earlier on the route. Refusals are 401 with
// a WWW-Authenticate: DPoP challenge (RFC 9449 §7.1), and 503 when the
// replay guard's store is down.
type DPoPPolicy struct {
	// Algorithms is the allow-list of proof algorithms: ES256, ES384,
	// ES512, EdDSA, RS256, PS256 (and their larger hashes). Default:
	// ES256, EdDSA.
	Algorithms []string `yaml:"algorithms"`
	// MaxAge is how old a proof's iat may be. Default: 60s.
	MaxAge Duration `yaml:"max_age" jsonschema:"default=60s"`
	// Skew is how far ahead of the gateway's clock iat may be. Default:
	// 60s.
	Skew Duration `yaml:"skew" jsonschema:"default=60s"`
	// Origin is the public scheme and authority clients make proofs for
	// (htu), such as https://api.example.com. Default: as the signature
	// layer's.
	Origin string `yaml:"origin"`
	// Nonce, when set, requires server nonces (RFC 9449 §9): a proof
	// without a fresh one is refused with a new one in DPoP-Nonce
	// (dpop.use_nonce), so that proofs cannot be made in advance.
	Nonce *DPoPNonce `yaml:"nonce"`
	// MaxProofBytes caps a proof. Default: 8KiB.
	MaxProofBytes ByteSize `yaml:"max_proof_bytes" jsonschema:"default=8KiB"`
}

// DPoPNonce configures server nonces.
type DPoPNonce struct {
	// Secret keys the nonces' MAC, at least 32 bytes, shared by replicas
	// (use ${file:...}). Empty: a secret generated at start, which suits a
	// single node.
	Secret string `yaml:"secret"`
	// Lifetime is how long a nonce is accepted. Default: 5m.
	Lifetime Duration `yaml:"lifetime" jsonschema:"default=5m"`
}
