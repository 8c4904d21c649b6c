package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxRateLimits is the most limits one ratelimit layer may check: the
// store evaluates them in one atomic call (internal/ratelimit.MaxChecks).
const maxRateLimits = 16

// keyLayers are the layers that supply a rate-limit key: a limit keyed by
// one of them must come after such a layer on its route, or every request
// would be counted by client address.
var keyLayers = map[string]string{"sub": "jwt", "claim": "jwt", "install": "attestation", "apikey": "apikey"}

// validateRateLimits checks every ratelimit layer, of routes and of the
// attestation endpoints. Rates the limiter cannot represent (more than a
// request per microsecond) are refused when the gateway compiles the
// config (internal/ratelimit knows them).
func (c *Config) validateRateLimits(v *validator) {
	chains := map[string][]PolicySpec{"attestation.policies": c.Attestation.Policies}
	order := []string{"attestation.policies"}
	for i := range c.Routes {
		p := fmt.Sprintf("routes[%d].policies", i)
		chains[p] = c.Routes[i].Policies
		order = append(order, p)
	}
	for _, path := range order {
		names := map[string]string{} // limit name → where it is defined
		var before []string          // layers earlier on the chain
		for i, spec := range chains[path] {
			if rl := spec.RateLimit; rl != nil {
				rl.validate(v, fmt.Sprintf("%s[%d].ratelimit", path, i), before, names)
			}
			before = append(before, spec.Layer())
		}
	}
}

func (p *RateLimitPolicy) validate(v *validator, path string, before []string, names map[string]string) {
	if len(p.Limits) == 0 {
		v.add(path+".limits", "list at least one limit")
	}
	if len(p.Limits) > maxRateLimits {
		v.add(path+".limits", "at most %d limits per layer (they are checked in one store call); use another ratelimit layer", maxRateLimits)
	}
	if p.IPv6Prefix < 1 || p.IPv6Prefix > 128 {
		v.add(path+".ipv6_prefix", "want 1 to 128, got %d", p.IPv6Prefix)
	}
	if p.OnStoreError != "open" && p.OnStoreError != "closed" {
		v.add(path+".on_store_error", "want open or closed, got %q", p.OnStoreError)
	}
	if p.Timeout <= 0 {
		v.add(path+".timeout", "must be greater than zero")
	}
	for i, l := range p.Limits {
		lp := fmt.Sprintf("%s.limits[%d]", path, i)
		if !validLimitName(l.Name) {
			v.add(lp+".name", "want 1 to 64 letters, digits, '.', '_' or '-', got %q", l.Name)
		} else if other, dup := names[l.Name]; dup {
			v.add(lp+".name", "limit %q is already defined at %s (names must be unique on a route)", l.Name, other)
		} else {
			names[l.Name] = lp
		}
		l.validateKey(v, lp+".key", before)
		if l.Rate < 1 {
			v.add(lp+".rate", "must be at least 1")
		}
		switch per := l.Per.D(); {
		case per < time.Second || per%time.Second != 0:
			v.add(lp+".per", "want a whole number of seconds (1s, 1m, 1h), got %v", per)
		case per > 366*24*time.Hour:
			v.add(lp+".per", "must be at most 366 days")
		}
		if l.Burst < 0 {
			v.add(lp+".burst", "must not be negative")
		}
	}
}

func (l RateLimit) validateKey(v *validator, field string, before []string) {
	kind, arg, hasArg := strings.Cut(l.Key, ":")
	switch kind {
	case "ip", "sub", "install", "apikey":
		if hasArg {
			v.add(field, "key %s takes no argument, got %q", kind, l.Key)
			return
		}
	case "header":
		if !isToken(arg) {
			v.add(field, "want header:NAME with a header name, got %q", l.Key)
			return
		}
	case "claim":
		if arg == "" {
			v.add(field, "want claim:NAME, got %q", l.Key)
			return
		}
	default:
		v.add(field, "want ip, sub, install, apikey, header:NAME or claim:NAME, got %q", l.Key)
		return
	}
	if layer, ok := keyLayers[kind]; ok && !slices.Contains(before, layer) {
		v.add(field, "key %s comes from the %s layer, and no %s layer runs before this one: every request would be counted by client address", kind, layer, layer)
	}
}

func validLimitName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
