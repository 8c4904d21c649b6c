package gateway

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// jwtPolicy requires a bearer token of a trusted issuer (internal/token
// does the verifying), then the route's scopes and claim rules, and
// forwards the verified subject and claims in headers the client cannot
// forge.
type jwtPolicy struct {
	verifier *token.Verifier
	cookie   string
	bearerOK bool // the Bearer scheme is accepted
	dpopOK   bool // the DPoP scheme is accepted; a dpop layer follows
	// The challenges of the schemes accepted (RFC 6750 §3, RFC 9449
	// §7.1), prepared at load.
	missing, invalid http.Header
	scopes           []string
	rules            []claimRule
	forward          []forwardHeader
	scopeErr         *Denial // the insufficient_scope denial, prepared at load
}

type claimRule struct {
	claim, equals, contains string
	oneOf                   []string
}

type forwardHeader struct {
	header, claim string
}

// Challenges (RFC 6750 §3), prepared once and shared: never modified.
var (
	challengeMissing = http.Header{"Www-Authenticate": {`Bearer realm="drawbridge"`}}
	challengeInvalid = http.Header{"Www-Authenticate": {`Bearer realm="drawbridge", error="invalid_token"`}}
	challengeRequest = http.Header{"Www-Authenticate": {`Bearer realm="drawbridge", error="invalid_request"`}}
	// challengeDPoPBound answers a DPoP-bound token sent as a bearer token
	// (RFC 9449 §7.1).
	challengeDPoPBound = http.Header{"Www-Authenticate": {`DPoP realm="drawbridge", error="invalid_token"`}}
)

func buildJWT(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.JWT
	var problems []config.Problem
	tc := token.Config{MaxTokenBytes: int(c.MaxTokenBytes), Now: b.st.g.now}
	for i, name := range c.Issuers {
		ic, ps := b.st.issuer(name, b, fmt.Sprintf("issuers[%d]", i))
		problems = append(problems, ps...)
		if ic != nil {
			tc.Issuers = append(tc.Issuers, *ic)
		}
	}
	if j := c.JWE; j != nil {
		raw, err := os.ReadFile(j.KeysFile)
		var keys *token.KeySet
		if err == nil {
			keys, err = token.ParseJWKS(raw)
		}
		if err != nil {
			problems = append(problems, b.problem("jwe.keys_file", err.Error()))
		} else {
			tc.JWE = &token.JWEConfig{Keys: keys, KeyAlgorithms: j.Algorithms, ContentEncryption: j.Encryption, MaxP2C: j.MaxP2C, AllowZip: j.AllowZip, MaxZipBytes: int(j.MaxZipBytes)}
		}
	}
	if !c.Cache.Disabled {
		tc.Cache = token.NewCache(c.Cache.Size, c.Cache.TTL.D())
	}
	if len(problems) > 0 {
		return nil, problems
	}
	v, err := token.NewVerifier(tc)
	if err != nil {
		return nil, []config.Problem{b.problem("", err.Error())}
	}
	p := &jwtPolicy{verifier: v, cookie: c.Cookie, scopes: c.Scopes,
		bearerOK: len(c.Schemes) == 0 || slices.Contains(c.Schemes, "Bearer"), dpopOK: slices.Contains(c.Schemes, "DPoP"),
		missing: challengeMissing, invalid: challengeInvalid}
	if p.dpopOK {
		p.missing = challenges(p.bearerOK, challengeMissing, `DPoP realm="drawbridge"`)
		p.invalid = challenges(p.bearerOK, challengeInvalid, `DPoP realm="drawbridge", error="invalid_token"`)
	}
	for _, r := range c.Claims {
		p.rules = append(p.rules, claimRule{claim: r.Claim, equals: r.Equals, contains: r.Contains, oneOf: r.OneOf})
	}
	for h, claim := range c.Forward {
		p.forward = append(p.forward, forwardHeader{http.CanonicalHeaderKey(h), claim})
	}
	slices.SortFunc(p.forward, func(a, b forwardHeader) int { return strings.Compare(a.header, b.header) })
	p.scopeErr = &Denial{Reason: "jwt.insufficient_scope", Header: http.Header{"Www-Authenticate": {
		fmt.Sprintf(`Bearer realm="drawbridge", error="insufficient_scope", scope=%q`, strings.Join(c.Scopes, " ")),
	}}}
	return p, nil
}

// Decide reads the token, verifies it, applies scopes and claim rules,
// and sets the forwarded headers.
func (p *jwtPolicy) Decide(s *Scope) error {
	raw, scheme, d := p.bearer(s.Request)
	if d != nil {
		return d
	}
	tok, err := p.verifier.Verify(s.Request.Context(), raw)
	if err != nil {
		reason := jwtReason(token.ReasonOf(err))
		h := p.invalid
		if reason == "jwt.keys_unavailable" {
			h = nil
		}
		return &Denial{Reason: reason, Header: h, Cause: err}
	}
	if scheme != "DPoP" && cnfJKT(tok.Claims.Map()) != "" {
		// RFC 9449 §7.2: a token bound to a key is not a bearer token;
		// accepting it as one would let a stolen copy in without proof.
		return &Denial{Reason: "jwt.dpop_bound", Header: challengeDPoPBound}
	}
	if len(p.scopes) > 0 {
		granted := tok.Claims.Scopes()
		for _, want := range p.scopes {
			if !slices.Contains(granted, want) {
				return p.scopeErr
			}
		}
	}
	for _, r := range p.rules {
		if !r.holds(tok.Claims) {
			return &Denial{Reason: "jwt.claim_mismatch", Cause: fmt.Errorf("jwt: claim %s does not meet its rule", r.claim)}
		}
	}
	s.User, s.UserToken, s.UserScheme = tok, raw, scheme
	for _, f := range p.forward {
		// Whatever the client sent under these names never reaches the
		// upstream; what the token says replaces it.
		s.StripUpstreamHeader(f.header)
		if v, ok := tok.Claims.String(f.claim); ok && v != "" && httpguts.ValidHeaderFieldValue(v) {
			s.SetUpstreamHeader(f.header, v)
		}
	}
	return nil
}

// bearer returns the token of the request and how it came: "Bearer" or
// "DPoP" followed by the token in the one Authorization field (RFC 6750
// §2.1, RFC 9449 §7.1), as the policy's schemes allow, or "cookie". More
// than one way of sending a token is refused (RFC 6750 §2).
func (p *jwtPolicy) bearer(r *http.Request) (string, string, *Denial) {
	auth := r.Header["Authorization"]
	var cookie *http.Cookie
	if p.cookie != "" {
		if c, err := r.Cookie(p.cookie); err == nil {
			cookie = c
		}
	}
	switch {
	case len(auth) > 1 || (len(auth) == 1 && cookie != nil):
		return "", "", &Denial{Reason: "jwt.bad_request", Header: challengeRequest}
	case len(auth) == 1:
		scheme, tok, ok := strings.Cut(auth[0], " ")
		switch {
		case ok && p.bearerOK && strings.EqualFold(scheme, "Bearer"):
			scheme = "Bearer"
		case ok && p.dpopOK && strings.EqualFold(scheme, "DPoP"):
			scheme = "DPoP"
		default:
			return "", "", &Denial{Reason: "jwt.missing", Header: p.missing}
		}
		tok = strings.TrimLeft(tok, " ")
		if tok == "" {
			return "", "", &Denial{Reason: "jwt.missing", Header: p.missing}
		}
		return tok, scheme, nil
	case cookie != nil && cookie.Value != "":
		return cookie.Value, "cookie", nil
	}
	return "", "", &Denial{Reason: "jwt.missing", Header: p.missing}
}

// challenges returns the DPoP challenge, after the Bearer one when that
// scheme is accepted too.
func challenges(bearer bool, bearerChallenge http.Header, dpop string) http.Header {
	if !bearer {
		return http.Header{"Www-Authenticate": {dpop}}
	}
	return http.Header{"Www-Authenticate": {bearerChallenge.Get("Www-Authenticate"), dpop}}
}

func (r claimRule) holds(c *token.Claims) bool {
	v, ok := c.Get(r.claim)
	if !ok {
		return false
	}
	switch {
	case r.equals != "":
		s, ok := c.String(r.claim)
		return ok && s == r.equals
	case r.contains != "":
		switch x := v.(type) {
		case []any:
			return slices.ContainsFunc(x, func(e any) bool { s, ok := e.(string); return ok && s == r.contains })
		case string:
			return slices.Contains(strings.Fields(x), r.contains)
		}
		return false
	default:
		s, ok := c.String(r.claim)
		return ok && slices.Contains(r.oneOf, s)
	}
}

// jwtReason maps the core's reason to the gateway's: token.X is jwt.X,
// except that a signature that does not verify is jwt.invalid_signature.
func jwtReason(reason string) string {
	switch reason {
	case token.ReasonBadSignature:
		return "jwt.invalid_signature"
	case "":
		return "gateway.internal"
	}
	return "jwt." + strings.TrimPrefix(reason, "token.")
}

var _ Policy = (*jwtPolicy)(nil)
