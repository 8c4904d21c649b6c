package config

import "time"

// Defaults of the signature, dpop and apikey layers.
const (
	DefaultSignatureMaxAge       = 5 * time.Minute
	DefaultSignatureSkew         = 30 * time.Second
	DefaultSignatureMaxBodyBytes = 1 << 20
	DefaultDPoPMaxAge            = 60 * time.Second
	DefaultDPoPSkew              = 60 * time.Second
	DefaultDPoPMaxProofBytes     = 8 << 10
	DefaultDPoPNonceLifetime     = 5 * time.Minute
	DefaultAPIKeyHeader          = "X-Api-Key"
	DefaultAPIKeyCacheTTL        = 30 * time.Second
)

// applyProofDefaults fills in the defaults of a signature, dpop or apikey
// layer.
func applyProofDefaults(p PolicySpec) {
	if s := p.Signature; s != nil {
		setDefault(&s.MaxAge, Duration(DefaultSignatureMaxAge))
		setDefault(&s.Skew, Duration(DefaultSignatureSkew))
		setDefault(&s.Nonce, "required")
		setDefault(&s.MaxBodyBytes, DefaultSignatureMaxBodyBytes)
	}
	if d := p.DPoP; d != nil {
		if len(d.Algorithms) == 0 {
			d.Algorithms = []string{"ES256", "EdDSA"}
		}
		setDefault(&d.MaxAge, Duration(DefaultDPoPMaxAge))
		setDefault(&d.Skew, Duration(DefaultDPoPSkew))
		setDefault(&d.MaxProofBytes, DefaultDPoPMaxProofBytes)
		if d.Nonce != nil {
			setDefault(&d.Nonce.Lifetime, Duration(DefaultDPoPNonceLifetime))
		}
	}
	if a := p.APIKey; a != nil {
		setDefault(&a.Header, DefaultAPIKeyHeader)
	}
}
