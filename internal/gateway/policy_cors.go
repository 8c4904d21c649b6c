package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// corsPolicy is a CORS allow-list (Fetch standard). It answers preflights
// itself and adds CORS headers to allowed cross-origin responses. Requests
// without an Origin header are not cross-origin requests and pass.
//
// CORS protects browsers' users, not the API: a non-browser client ignores
// it. Place this layer first, so that denials by later layers carry CORS
// headers and a web app can read their problem bodies.
type corsPolicy struct {
	any         bool
	origins     map[string]bool
	methods     map[string]bool
	methodsList string
	headers     map[string]bool // lower-case
	headersList string
	expose      string
	credentials bool
	maxAge      string
	denyUnknown bool
}

func buildCORS(spec *config.PolicySpec, _ *buildEnv) (Policy, []config.Problem) {
	c := spec.CORS
	p := &corsPolicy{
		origins:     map[string]bool{},
		methods:     map[string]bool{},
		headers:     map[string]bool{},
		credentials: c.AllowCredentials,
		maxAge:      strconv.Itoa(int(c.MaxAge.D().Seconds())),
		denyUnknown: c.DenyUnknownOrigins,
		expose:      strings.Join(c.ExposeHeaders, ", "),
	}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			p.any = true
			continue
		}
		p.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	for _, m := range c.AllowMethods {
		p.methods[m] = true
	}
	p.methodsList = strings.Join(c.AllowMethods, ", ")
	for _, h := range c.AllowHeaders {
		p.headers[strings.ToLower(h)] = true
	}
	p.headersList = strings.Join(c.AllowHeaders, ", ")
	return p, nil
}

func (p *corsPolicy) allowed(origin string) bool {
	return p.any || p.origins[strings.ToLower(origin)]
}

func (p *corsPolicy) Decide(s *Scope) error {
	r := s.Request
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	s.AddResponseHeader("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !p.allowed(origin) {
		if preflight {
			return Deny("cors.preflight_denied")
		}
		if p.denyUnknown {
			return Deny("cors.origin_denied")
		}
		return nil
	}
	if preflight {
		if !p.methods[r.Header.Get("Access-Control-Request-Method")] {
			return Deny("cors.preflight_denied")
		}
		for _, line := range r.Header.Values("Access-Control-Request-Headers") {
			for _, h := range strings.Split(line, ",") {
				if h = strings.TrimSpace(h); h != "" && !p.headers[strings.ToLower(h)] {
					return Deny("cors.preflight_denied")
				}
			}
		}
		h := http.Header{}
		p.setOrigin(h.Set, origin)
		h.Set("Access-Control-Allow-Methods", p.methodsList)
		if p.headersList != "" {
			h.Set("Access-Control-Allow-Headers", p.headersList)
		}
		h.Set("Access-Control-Max-Age", p.maxAge)
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		return &Reply{Status: http.StatusNoContent, Header: h}
	}
	p.setOrigin(s.SetResponseHeader, origin)
	if p.expose != "" {
		s.SetResponseHeader("Access-Control-Expose-Headers", p.expose)
	}
	return nil
}

func (p *corsPolicy) setOrigin(set func(name, value string), origin string) {
	if p.any && !p.credentials {
		set("Access-Control-Allow-Origin", "*")
	} else {
		set("Access-Control-Allow-Origin", origin)
	}
	if p.credentials {
		set("Access-Control-Allow-Credentials", "true")
	}
}

var _ Policy = (*corsPolicy)(nil)
