package gateway

import (
	"net/http"
	"strconv"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// headersPolicy requires or forbids request headers and sets response
// headers. Security headers are set on every response of the route,
// including denials, and override what the upstream sent.
type headersPolicy struct {
	require, forbid []string // canonical names
	response        []headerValue
	hsts            []string // Strict-Transport-Security value, set on secure requests
}

// headerValue is a response header prepared at config load.
type headerValue struct {
	name   string   // canonical
	values []string // shared by all requests: never modified
}

func newHeaderValue(name, value string) headerValue {
	return headerValue{http.CanonicalHeaderKey(name), []string{value}[:1:1]}
}

func buildHeaders(spec *config.PolicySpec, _ *buildEnv) (Policy, []config.Problem) {
	c := spec.Headers
	p := &headersPolicy{}
	for _, h := range c.Require {
		p.require = append(p.require, http.CanonicalHeaderKey(h))
	}
	for _, h := range c.Forbid {
		p.forbid = append(p.forbid, http.CanonicalHeaderKey(h))
	}
	if c.SecurityHeaders {
		p.response = append(p.response,
			newHeaderValue("X-Content-Type-Options", "nosniff"),
			newHeaderValue("Referrer-Policy", "no-referrer"),
			newHeaderValue("X-Frame-Options", "DENY"),
			newHeaderValue("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
		)
		p.hsts = []string{"max-age=" + strconv.FormatInt(int64(c.HSTSMaxAge.D().Seconds()), 10) + "; includeSubDomains"}[:1:1]
	}
	if c.NoStore {
		p.response = append(p.response, newHeaderValue("Cache-Control", "no-store"))
	}
	for k, v := range c.Response {
		p.response = append(p.response, newHeaderValue(k, v))
	}
	return p, nil
}

func (p *headersPolicy) Decide(s *Scope) error {
	for _, hv := range p.response {
		s.setResponseHeaderValues(hv.name, hv.values)
	}
	if p.hsts != nil && s.Secure {
		s.setResponseHeaderValues("Strict-Transport-Security", p.hsts)
	}
	h := s.Request.Header
	for _, name := range p.require {
		if v := h[name]; len(v) == 0 || v[0] == "" {
			return Deny("headers.missing")
		}
	}
	for _, name := range p.forbid {
		if _, ok := h[name]; ok {
			return Deny("headers.forbidden")
		}
	}
	return nil
}

var _ Policy = (*headersPolicy)(nil)
