package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// signatureAlgorithms are the RFC 9421 algorithms internal/httpsig
// verifies.
var signatureAlgorithms = []string{"hmac-sha256", "ed25519", "ecdsa-p256-sha256", "rsa-pss-sha512", "rsa-v1_5-sha256"}

// dpopAlgorithms are the asymmetric JWS algorithms a DPoP proof may use.
var dpopAlgorithms = []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// validateProofs checks the signature, dpop and apikey layers of every
// chain, and how they sit on a route: each must find what it binds to
// earlier in the chain, and a jwt layer that accepts DPoP tokens must be
// followed by a dpop layer that checks their proofs.
func (c *Config) validateProofs(v *validator) {
	chains := map[string][]PolicySpec{"attestation.policies": c.Attestation.Policies}
	order := []string{"attestation.policies"}
	for i := range c.Routes {
		p := fmt.Sprintf("routes[%d].policies", i)
		chains[p] = c.Routes[i].Policies
		order = append(order, p)
	}
	apikeys := false
	for _, path := range order {
		var before []string
		for i, spec := range chains[path] {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case spec.Signature != nil:
				spec.Signature.validate(v, p+".signature", before)
			case spec.DPoP != nil:
				spec.DPoP.validate(v, p+".dpop", before)
			case spec.APIKey != nil:
				spec.APIKey.validate(v, p+".apikey")
				apikeys = true
			case spec.JWT != nil && slices.Contains(spec.JWT.Schemes, "DPoP"):
				if !slices.ContainsFunc(chains[path][i+1:], func(s PolicySpec) bool { return s.DPoP != nil }) {
					v.add(p+".jwt.schemes", "accepts DPoP tokens, but no dpop layer follows to check their proofs: a DPoP token would pass as a bearer token")
				}
			}
			before = append(before, spec.Layer())
		}
	}
	if apikeys && len(c.APIKeys.Pepper) < 32 {
		v.add("api_keys.pepper", "apikey layers need a pepper of at least 32 bytes (use ${file:...})")
	}
	if c.APIKeys.CacheTTL <= 0 || c.APIKeys.CacheTTL.D().Minutes() > 10 {
		v.add("api_keys.cache_ttl", "must be between 0s and 10m")
	}
}

func (s *SignaturePolicy) validate(v *validator, p string, before []string) {
	if len(s.Keys) == 0 && s.JWKSURL == "" && s.JWKSFile == "" && !s.Attested {
		v.add(p, "set keys, jwks_url, jwks_file or attested: where the signers' keys come from")
	}
	attested := slices.Contains(before, "attestation")
	switch {
	case s.Attested && !attested:
		v.add(p+".attested", "needs an attestation layer earlier on the route: the key comes from its token")
	case !s.Attested && attested:
		v.add(p+".attested", "set attested: true: after an attestation layer, requests must be signed with the install's bound key")
	}
	for _, id := range sortedKeys(s.Keys) {
		k := s.Keys[id]
		f := p + ".keys." + id
		if (k.File == "") == (k.Secret == "") {
			v.add(f, "set file or secret")
		}
		if k.Alg != "" && !slices.Contains(signatureAlgorithms, k.Alg) {
			v.add(f+".alg", "want one of %s, got %q", strings.Join(signatureAlgorithms, ", "), k.Alg)
		}
	}
	if s.JWKSURL != "" && !keyURL(s.JWKSURL) {
		v.add(p+".jwks_url", "want an https URL (http only to a loopback address), got %q", s.JWKSURL)
	}
	for i, a := range s.Algorithms {
		if !slices.Contains(signatureAlgorithms, a) {
			v.add(fmt.Sprintf("%s.algorithms[%d]", p, i), "want one of %s, got %q", strings.Join(signatureAlgorithms, ", "), a)
		}
	}
	if s.Nonce != "required" && s.Nonce != "off" {
		v.add(p+".nonce", "want required or off, got %q", s.Nonce)
	}
	if s.MaxAge <= 0 || s.Skew < 0 || s.Skew.D().Minutes() > 5 {
		v.add(p, "want a positive max_age and a skew between 0s and 5m")
	}
	if s.MaxBodyBytes <= 0 {
		v.add(p+".max_body_bytes", "must be greater than zero")
	}
	validOrigin(v, p+".origin", s.Origin)
}

func (d *DPoPPolicy) validate(v *validator, p string, before []string) {
	if !slices.Contains(before, "jwt") && !slices.Contains(before, "attestation") {
		v.add(p, "needs a jwt or attestation layer earlier on the route: a proof is only worth the key a token binds")
	}
	for i, a := range d.Algorithms {
		if !slices.Contains(dpopAlgorithms, a) {
			v.add(fmt.Sprintf("%s.algorithms[%d]", p, i), "want an asymmetric JWS algorithm (%s), got %q", strings.Join(dpopAlgorithms, ", "), a)
		}
	}
	if d.MaxAge <= 0 || d.MaxAge.D().Minutes() > 10 || d.Skew < 0 || d.Skew.D().Minutes() > 10 {
		v.add(p, "want max_age and skew between 0s and 10m")
	}
	if d.MaxProofBytes <= 0 || d.MaxProofBytes > 64<<10 {
		v.add(p+".max_proof_bytes", "must be between 1 and 64KiB")
	}
	if n := d.Nonce; n != nil {
		if n.Secret != "" && len(n.Secret) < 32 {
			v.add(p+".nonce.secret", "must have at least 32 bytes")
		}
		if n.Lifetime <= 0 {
			v.add(p+".nonce.lifetime", "must be greater than zero")
		}
	}
	validOrigin(v, p+".origin", d.Origin)
}

func (a *APIKeyPolicy) validate(v *validator, p string) {
	if !isToken(a.Header) {
		v.add(p+".header", "want a header name, got %q", a.Header)
	}
	if a.Query != "" && strings.ContainsAny(a.Query, "&=#? ") {
		v.add(p+".query", "want a query parameter name, got %q", a.Query)
	}
	for i, s := range a.Scopes {
		if s == "" || strings.ContainsAny(s, " \t") {
			v.add(fmt.Sprintf("%s.scopes[%d]", p, i), "want a scope without spaces, got %q", s)
		}
	}
	if a.ForwardID != "" {
		switch {
		case !isToken(a.ForwardID):
			v.add(p+".forward_id", "want a header name, got %q", a.ForwardID)
		case reservedForward[strings.ToLower(a.ForwardID)], strings.EqualFold(a.ForwardID, a.Header):
			v.add(p+".forward_id", "the gateway sets or forbids %s itself", a.ForwardID)
		}
	}
}

// validOrigin checks a public origin: scheme://authority, nothing more.
func validOrigin(v *validator, field, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		v.add(field, "want scheme://authority such as https://api.example.com, got %q", s)
	}
}
