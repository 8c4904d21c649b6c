package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// apiKeyPolicy requires an API key (internal/apikey): in a header, or a
// query parameter when the route allows it, exactly once. The key's id
// becomes Scope.APIKeyID, which rate limits count by; the key itself never
// reaches the upstream, and its id does only under a header the gateway
// sets.
//
// An API key says weakly what is calling: anyone can pull one out of an
// app. It identifies partners' servers; for apps, pair it with an
// attestation layer (docs/apikeys.md).
type apiKeyPolicy struct {
	verifier  *apikey.Verifier
	header    string // canonical
	query     string
	scopes    []string
	forwardID string // canonical; empty: not forwarded
}

func buildAPIKey(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.APIKey
	v, err := b.st.g.apiKeyVerifier(b.cfg.APIKeys.Pepper, b.cfg.APIKeys.CacheTTL.D())
	if err != nil {
		return nil, []config.Problem{{Field: "api_keys", Msg: err.Error()}}
	}
	p := &apiKeyPolicy{verifier: v, header: http.CanonicalHeaderKey(c.Header), query: c.Query, scopes: c.Scopes}
	if c.ForwardID != "" {
		p.forwardID = http.CanonicalHeaderKey(c.ForwardID)
	}
	return p, nil
}

func (p *apiKeyPolicy) Decide(s *Scope) error {
	r := s.Request
	keys := r.Header[p.header]
	var query url.Values
	if p.query != "" && strings.Contains(r.URL.RawQuery, p.query) {
		query, _ = url.ParseQuery(r.URL.RawQuery)
		keys = append(slices.Clip(keys), query[p.query]...)
	}
	switch {
	case len(keys) == 0 || keys[0] == "":
		return Deny("apikey.missing")
	case len(keys) > 1:
		return Deny("apikey.bad_request")
	}
	key, err := p.verifier.Verify(r.Context(), keys[0])
	if err != nil {
		return asDenial(err)
	}
	for _, want := range p.scopes {
		if !slices.Contains(key.Scopes, want) {
			return Deny("apikey.insufficient_scope")
		}
	}
	s.APIKeyID = key.ID
	s.StripUpstreamHeader(p.header)
	if query != nil && len(query[p.query]) > 0 {
		s.SetUpstreamQuery(withoutParam(r.URL.RawQuery, p.query))
	}
	if p.forwardID != "" {
		s.StripUpstreamHeader(p.forwardID)
		s.SetUpstreamHeader(p.forwardID, key.ID)
	}
	return nil
}

// withoutParam returns the raw query without the parameter name, the
// other parameters kept byte for byte.
func withoutParam(raw, name string) string {
	parts := strings.Split(raw, "&")
	out := parts[:0]
	for _, part := range parts {
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == name {
			continue
		}
		out = append(out, part)
	}
	return strings.Join(out, "&")
}

var _ Policy = (*apiKeyPolicy)(nil)
