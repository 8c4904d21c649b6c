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
// Checks, in order: present; signature, issuer, type and expiry (with a
// small leeway); the app is one of the route's; the version rules of the
// config and of operators at run time; the install is not revoked; the
// token was not issued before an operator's cut-off; and, when asked, the
// token is bound to the request's Authorization header.
type attestationPolicy struct {
	header   string
	apps     []string
	appRules map[string]*service.App
	controls *service.Controls
	verifier *token.Verifier
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
	ic := token.IssuerConfig{
		Type:           service.TokenType,
		Leeway:         c.Leeway.D(),
		RequiredClaims: []string{"sub", "app", "plat", "env", "jti", "cnf"},
	}
	switch {
	case c.JWKSURL != "":
		src, ps := st.remoteKeys(c.JWKSURL, b, "jwks_url")
		if len(ps) > 0 {
			return nil, ps
		}
		ic.Issuer = b.cfg.Attestation.Issuer
		ic.Keys = []token.KeySource{src}
		ic.Algorithms = []string{"EdDSA", "ES256"}
	case st.attestIssuer != nil:
		ic.Issuer = st.attestIssuer.Name()
		ic.Keys = []token.KeySource{st.attestIssuer.PublicKeys()}
		ic.Algorithms = st.attestIssuer.Algorithms()
	default:
		return nil, []config.Problem{b.problem("", "no attestation keys: enable the attestation service or set jwks_url")}
	}
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{ic},
		Now:     b.now,
		Cache:   token.NewCache(config.DefaultTokenCacheSize, 0),
	})
	if err != nil {
		return nil, []config.Problem{b.problem("", err.Error())}
	}
	p.verifier = v
	return p, nil
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
	tok, err := p.verifier.Verify(s.Request.Context(), raw[0])
	if err != nil {
		switch token.ReasonOf(err) {
		case "token.expired":
			return &Denial{Reason: "attestation.expired", Header: attestChallenge, Cause: err}
		case "token.keys_unavailable":
			return &Denial{Reason: "attestation.unavailable", Cause: err}
		}
		return &Denial{Reason: "attestation.invalid", Header: attestChallenge, Cause: err}
	}
	cl := tok.Claims
	app, _ := cl.String("app")
	if !slices.Contains(p.apps, app) {
		return &Denial{Reason: "attestation.wrong_app", Cause: fmt.Errorf("token for app %q", app)}
	}
	ver, _ := cl.String("ver")
	rules := p.appRules[app]
	if rules != nil && !service.VersionAllowed(rules.MinVersion, rules.Blocked, p.controls.Blocked(app), ver) {
		return &Denial{Reason: "attestation.version_blocked", Cause: fmt.Errorf("version %q", ver)}
	}
	if p.controls.Revoked(app, cl.Subject) {
		return &Denial{Reason: "attestation.device_revoked"}
	}
	if cut := p.controls.Cutoff(app); !cut.IsZero() && cl.IssuedAt.Before(cut) {
		return &Denial{Reason: "attestation.token_revoked", Header: attestChallenge}
	}
	if p.bind {
		uth, _ := cl.String("uth")
		want := service.AuthHash(s.Request.Header.Get("Authorization"))
		if uth == "" || subtle.ConstantTimeCompare([]byte(uth), []byte(want)) != 1 {
			return &Denial{Reason: "attestation.binding_mismatch"}
		}
	}
	in := &Install{App: app, ID: cl.Subject, Version: ver}
	in.Platform, _ = cl.String("plat")
	in.Environment, _ = cl.String("env")
	if cnf, ok := cl.Get("cnf"); ok {
		if m, ok := cnf.(map[string]any); ok {
			in.BoundKey, _ = m["jkt"].(string)
		}
	}
	s.Install = in
	return nil
}

var _ Policy = (*attestationPolicy)(nil)
