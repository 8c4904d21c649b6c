package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// dpopPolicy requires a DPoP proof (RFC 9449) of the key the request's
// credentials are bound to: the access token's cnf.jkt (the jwt layer
// read it with the DPoP scheme) and the attestation token's. internal/dpop
// checks the proof; this layer says what it must match: the method, the
// URI the client addressed (public origin and the path as sent), the
// access token's hash, and every key a credential binds. A request whose
// credentials bind no key is refused: a proof of a key nothing vouches for
// proves nothing.
type dpopPolicy struct {
	verifier *dpop.Verifier
	origin   httpsig.Origin
	// Challenges (RFC 9449 §7.1), prepared once and shared.
	missing, invalidProof, invalidToken http.Header
	nonceHalfLife                       int64 // nanoseconds: a nonce older is renewed on success
}

func buildDPoP(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.DPoP
	p := &dpopPolicy{verifier: &dpop.Verifier{
		Algorithms:    c.Algorithms,
		MaxAge:        c.MaxAge.D(),
		Skew:          c.Skew.D(),
		MaxProofBytes: int(c.MaxProofBytes),
		ReplayGuard:   replayGuard{b.hot},
		Now:           b.now,
	}}
	var problems []config.Problem
	if n := c.Nonce; n != nil {
		secret := []byte(n.Secret)
		if len(secret) == 0 {
			secret = b.st.g.dpopNonceSecret()
		}
		p.verifier.Nonces = &dpop.Nonces{Secret: secret, Lifetime: n.Lifetime.D(), Now: b.now}
		p.nonceHalfLife = int64(n.Lifetime.D() / 2)
	}
	if err := p.verifier.Validate(); err != nil {
		problems = append(problems, b.problem("", err.Error()))
	}
	origin, err := parseOrigin(c.Origin)
	if err != nil {
		problems = append(problems, b.problem("origin", err.Error()))
	}
	p.origin = origin
	algs := `algs="` + strings.Join(p.verifier.AlgorithmList(), " ") + `"`
	p.missing = http.Header{"Www-Authenticate": {`DPoP ` + algs}}
	p.invalidProof = http.Header{"Www-Authenticate": {`DPoP error="invalid_dpop_proof", ` + algs}}
	p.invalidToken = http.Header{"Www-Authenticate": {`DPoP error="invalid_token", ` + algs}}
	if len(problems) > 0 {
		return nil, problems
	}
	return p, nil
}

func (p *dpopPolicy) Decide(s *Scope) error {
	r := s.Request
	o := publicOrigin(p.origin, s)
	req := dpop.Request{
		Method: r.Method,
		URI:    o.Scheme + "://" + o.Authority + targetPathRaw(s.OriginalTarget),
		Proofs: r.Header["Dpop"],
	}
	if s.User != nil {
		jkt := cnfJKT(s.User.Claims.Map())
		if s.UserScheme == "DPoP" {
			if jkt == "" {
				return &Denial{Reason: "dpop.unbound", Header: p.invalidToken, Cause: errors.New("a token sent with the DPoP scheme has no cnf.jkt")}
			}
			req.AccessToken = s.UserToken
		}
		if jkt != "" {
			req.BoundKeys = append(req.BoundKeys, jkt)
		}
	}
	if in := s.Install; in != nil && in.BoundKey != "" {
		req.BoundKeys = append(req.BoundKeys, in.BoundKey)
	}
	if len(req.BoundKeys) == 0 {
		return &Denial{Reason: "dpop.unbound", Header: p.invalidToken, Cause: errors.New("no credential of the request is bound to a key")}
	}
	proof, err := p.verifier.Verify(r.Context(), req)
	if err != nil {
		return p.denial(err)
	}
	if p.nonceHalfLife > 0 && int64(proof.NonceAge) > p.nonceHalfLife {
		// RFC 9449 §8.2: a new nonce before the one in use expires.
		s.SetResponseHeader("Dpop-Nonce", p.verifier.NewNonce())
	}
	return nil
}

// denial renders a refused proof with its challenge.
func (p *dpopPolicy) denial(err error) *Denial {
	reason := dpop.ReasonOf(err)
	d := &Denial{Reason: reason, Cause: err, Header: p.invalidProof}
	switch reason {
	case "":
		return &Denial{Reason: "gateway.internal", Cause: err}
	case dpop.ReasonMissing:
		d.Header = p.missing
	case dpop.ReasonKeyMismatch, dpop.ReasonAthMismatch:
		// The proof may be fine; the token is not this key's.
		d.Header = p.invalidToken
	case dpop.ReasonUseNonce:
		d.Header = http.Header{
			"Www-Authenticate": {`DPoP error="use_dpop_nonce", ` + strings.TrimPrefix(p.missing.Get("Www-Authenticate"), "DPoP ")},
			"Dpop-Nonce":       {p.verifier.NewNonce()},
		}
	case dpop.ReasonUnavailable:
		d.Header = nil
	}
	return d
}

// cnfJKT returns the cnf.jkt claim (RFC 9449 §6.1), or "".
func cnfJKT(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

var _ Policy = (*dpopPolicy)(nil)
