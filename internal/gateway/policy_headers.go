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
	response        [][2]string
	hsts            string // Strict-Transport-Security value, set on secure requests
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
			[2]string{"X-Content-Type-Options", "nosniff"},
			[2]string{"Referrer-Policy", "no-referrer"},
			[2]string{"X-Frame-Options", "DENY"},
			[2]string{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
		)
		p.hsts = "max-age=" + strconv.FormatInt(int64(c.HSTSMaxAge.D().Seconds()), 10) + "; includeSubDomains"
	}
	if c.NoStore {
		p.response = append(p.response, [2]string{"Cache-Control", "no-store"})
	}
	for k, v := range c.Response {
		p.response = append(p.response, [2]string{http.CanonicalHeaderKey(k), v})
	}
	return p, nil
}

func (p *headersPolicy) Decide(s *Scope) error {
	for _, kv := range p.response {
		s.SetResponseHeader(kv[0], kv[1])
	}
	if p.hsts != "" && s.Secure {
		s.SetResponseHeader("Strict-Transport-Security", p.hsts)
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
