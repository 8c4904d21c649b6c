package gateway

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// attestationPolicy requires an attestation token: proof, renewed every
// few minutes, that the genuine app on a sound device makes the request.
// Unlike a User-Agent or an API key, it cannot be copied out of the app:
// it is bound to a key the install holds, and later layers (signature,
// dpop) require proofs made with that key.
//
// Checks, in order: present (once); signature, issuer, type and expiry
// (with a small leeway); the app is one of the route's; the version rules
// of the config and of operators at run time; the install is not
// revoked; the token was not issued before an operator's cut-off; and,
// when asked, the token is bound to the request's Authorization header.
//
// Tokens of external services (attestation.external: Firebase App Check,
// Approov) go through the same checks after their own verification (see
// attest_external.go), except what they cannot carry: the version rules
// apply only to tokens with a ver claim, the cut-off only to tokens with
// an iat; their installs are not registered here, so they are revoked in
// the external service, not by this gateway's operators.
type attestationPolicy struct {
	header   string
	apps     []string
	appRules map[string]*service.App
	controls *service.Controls
	verifier *token.Verifier // this gateway's (or jwks_url's) tokens; nil when only external ones are accepted
	issuer   string          // their iss
	external []*externalVerifier
	bind     bool
}

func buildAttestation(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.Attestation
	st := b.st
	if st.controls == nil {
		return nil, []config.Problem{b.problem("", "the attestation service state is not available")}
	}
	p := &attestationPolicy{
		header:   http.CanonicalHeaderKey(c.Header),
		apps:     c.Apps,
		appRules: st.apps,
		controls: st.controls,
		bind:     c.BindAuthorization,
	}
	var problems []config.Problem
	for _, name := range c.External {
		x, ps := buildExternal(name, b.cfg.Attestation.External[name], c.Leeway.D(), b)
		problems = append(problems, ps...)
		if x != nil {
			p.external = append(p.external, x)
		}
	}
	ic := token.IssuerConfig{
		Type:   service.TokenType,
		Leeway: c.Leeway.D(),
		// iat is required so that no token escapes an operator's cut-off.
		RequiredClaims: []string{"sub", "app", "plat", "env", "iat", "jti", "cnf"},
	}
	switch {
	case c.JWKSURL != "":
		src, ps := st.remoteKeys(c.JWKSURL, b, "jwks_url")
		if len(ps) > 0 {
			return nil, append(problems, ps...)
		}
		ic.Issuer = b.cfg.Attestation.Issuer
		ic.Keys = []token.KeySource{src}
		ic.Algorithms = []string{"EdDSA", "ES256"}
	case st.attestIssuer != nil:
		ic.Issuer = st.attestIssuer.Name()
		ic.Keys = []token.KeySource{st.attestIssuer.PublicKeys()}
		ic.Algorithms = st.attestIssuer.Algorithms()
	case len(c.External) > 0:
		return p, problems
	default:
		return nil, []config.Problem{b.problem("", "no attestation keys: enable the attestation service or set jwks_url")}
	}
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{ic},
		Now:     b.now,
		Cache:   token.NewCache(config.DefaultTokenCacheSize, 0),
	})
	if err != nil {
		return nil, append(problems, b.problem("", err.Error()))
	}
	p.verifier, p.issuer = v, ic.Issuer
	return p, problems
}

var attestChallenge = http.Header{"Www-Authenticate": {`Attestation realm="drawbridge"`}}

func (p *attestationPolicy) Decide(s *Scope) error {
	raw := s.Request.Header[p.header]
	switch {
	case len(raw) == 0 || raw[0] == "":
		return &Denial{Reason: "attestation.missing", Header: attestChallenge}
	case len(raw) > 1:
		return &Denial{Reason: "attestation.invalid", Cause: errors.New("more than one attestation token")}
	}
	v, d := p.verify(s, raw[0])
	if d != nil {
		return d
	}
	if !slices.Contains(p.apps, v.app) {
		return &Denial{Reason: "attestation.wrong_app", Cause: fmt.Errorf("token for app %q", v.app)}
	}
	rules := p.appRules[v.app]
	if rules != nil && (v.hasVersion || !v.external) &&
		!service.VersionAllowed(rules.MinVersion, rules.Blocked, p.controls.Blocked(v.app), v.version) {
		return &Denial{Reason: "attestation.version_blocked", Cause: fmt.Errorf("version %q", v.version)}
	}
	if !v.external && p.controls.Revoked(v.app, v.install) {
		return &Denial{Reason: "attestation.device_revoked"}
	}
	if cut := p.controls.Cutoff(v.app); !cut.IsZero() && !v.issuedAt.IsZero() && v.issuedAt.Before(cut) {
		return &Denial{Reason: "attestation.token_revoked", Header: attestChallenge}
	}
	if p.bind && !v.external {
		want := service.AuthHash(s.Request.Header.Get("Authorization"))
		if v.uth == "" || subtle.ConstantTimeCompare([]byte(v.uth), []byte(want)) != 1 {
			return &Denial{Reason: "attestation.binding_mismatch"}
		}
	}
	s.Install = &Install{App: v.app, ID: v.install, Version: v.version, Platform: v.platform, Environment: v.environment, BoundKey: v.boundKey, boundJWK: v.boundJWK}
	return nil
}

// verify picks the verifier whose token raw says it is, and verifies it
// with that verifier's keys only.
func (p *attestationPolicy) verify(s *Scope, raw string) (*claimsView, *Denial) {
	ctx := s.Request.Context()
	if len(p.external) > 0 {
		alg, iss, err := inspectRouting(raw)
		if err == nil && (p.verifier == nil || iss != p.issuer) {
			for _, x := range p.external {
				if x.matches(alg, iss) {
					return x.verify(ctx, raw, s.Request.Header.Get("Authorization"), p.bind)
				}
			}
		}
		if p.verifier == nil {
			if err == nil {
				err = errors.New("the token is of no accepted issuer")
			}
			return nil, &Denial{Reason: "attestation.invalid", Header: attestChallenge, Cause: err}
		}
	}
	tok, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, tokenDenial(err)
	}
	cl := tok.Claims
	v := &claimsView{install: cl.Subject, issuedAt: cl.IssuedAt}
	v.app, _ = cl.String("app")
	v.version, v.hasVersion = cl.String("ver")
	v.platform, _ = cl.String("plat")
	v.environment, _ = cl.String("env")
	if cnf, ok := cl.Get("cnf"); ok {
		if m, ok := cnf.(map[string]any); ok {
			v.boundKey, _ = m["jkt"].(string)
			v.boundJWK, _ = m["jwk"].(map[string]any)
		}
	}
	if v.install == "" || v.boundKey == "" {
		return nil, &Denial{Reason: "attestation.invalid", Header: attestChallenge, Cause: errors.New("no install or bound key")}
	}
	v.uth, _ = cl.String("uth")
	return v, nil
}

var _ Policy = (*attestationPolicy)(nil)
