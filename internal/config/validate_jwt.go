package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// validateJWT checks the issuers section and every jwt policy, including
// that each policy names defined issuers. Algorithm names are checked
// when the gateway compiles the config (internal/token knows them).
func (c *Config) validateJWT(v *validator) {
	names := make([]string, 0, len(c.Issuers))
	for n := range c.Issuers {
		names = append(names, n)
	}
	slices.Sort(names)
	seen := map[string]string{}
	for _, name := range names {
		is := c.Issuers[name]
		p := "issuers." + name
		if is.Issuer == "" {
			v.add(p+".issuer", "is required: the exact iss of the issuer's tokens")
		} else if other, dup := seen[is.Issuer]; dup {
			v.add(p+".issuer", "issuer %q is already defined by issuers.%s", is.Issuer, other)
		}
		seen[is.Issuer] = name
		if !is.Discovery && is.JWKSURL == "" && is.JWKSFile == "" {
			v.add(p, "set discovery, jwks_url or jwks_file: where the issuer's keys come from")
		}
		if is.JWKSURL != "" && !keyURL(is.JWKSURL) {
			v.add(p+".jwks_url", "want an https URL (http only to a loopback address), got %q", is.JWKSURL)
		}
		if is.Discovery && !keyURL(is.Issuer) {
			v.add(p+".discovery", "discovery needs an issuer that is an https URL (http only to a loopback address)")
		}
		if len(is.Algorithms) == 0 {
			v.add(p+".algorithms", "list the algorithms the issuer signs with, such as [ES256]")
		}
		for i, a := range is.Algorithms {
			if strings.EqualFold(a, "none") {
				v.add(fmt.Sprintf("%s.algorithms[%d]", p, i), `"none" is never accepted`)
			}
		}
		if len(is.Audiences) == 0 {
			v.add(p+".audiences", "list the audiences tokens must name (RFC 8725 §3.9)")
		}
		if is.Leeway != nil && (*is.Leeway < 0 || is.Leeway.D().Minutes() > 5) {
			v.add(p+".leeway", "must be between 0s and 5m")
		}
		if is.MaxAge < 0 {
			v.add(p+".max_age", "must not be negative")
		}
		r := is.Refresh
		if r.Min <= 0 || r.Max < r.Min || r.UnknownKIDInterval <= 0 {
			v.add(p+".refresh", "want 0 < min <= max and a positive unknown_kid_interval")
		}
	}
	for i := range c.Routes {
		for j := range c.Routes[i].Policies {
			if jp := c.Routes[i].Policies[j].JWT; jp != nil {
				jp.validate(v, fmt.Sprintf("routes[%d].policies[%d].jwt", i, j), c)
			}
		}
	}
}

func (p *JWTPolicy) validate(v *validator, path string, c *Config) {
	if len(p.Issuers) == 0 {
		v.add(path+".issuers", "name at least one entry of the issuers section")
	}
	for i, name := range p.Issuers {
		if _, ok := c.Issuers[name]; !ok {
			v.add(fmt.Sprintf("%s.issuers[%d]", path, i), "unknown issuer %q (define it under issuers)", name)
		}
	}
	for i, sc := range p.Schemes {
		if sc != "Bearer" && sc != "DPoP" {
			v.add(fmt.Sprintf("%s.schemes[%d]", path, i), "want Bearer or DPoP, got %q", sc)
		}
	}
	if p.Cookie != "" && !isToken(p.Cookie) {
		v.add(path+".cookie", "want a cookie name, got %q", p.Cookie)
	}
	for i, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			v.add(fmt.Sprintf("%s.scopes[%d]", path, i), "want a scope without spaces or quotes, got %q", s)
		}
	}
	for i, r := range p.Claims {
		f := fmt.Sprintf("%s.claims[%d]", path, i)
		if r.Claim == "" {
			v.add(f+".claim", "is required")
		}
		set := 0
		for _, b := range []bool{r.Equals != "", r.Contains != "", len(r.OneOf) > 0} {
			if b {
				set++
			}
		}
		if set != 1 {
			v.add(f, "set exactly one of equals, contains and one_of")
		}
	}
	for h, claim := range p.Forward {
		f := path + ".forward." + h
		switch {
		case !isToken(h):
			v.add(f, "want a header name, got %q", h)
		case reservedForward[strings.ToLower(h)]:
			v.add(f, "the gateway sets or forbids %s itself", h)
		case claim == "":
			v.add(f, "name the claim to forward")
		}
	}
	if j := p.JWE; j != nil {
		if j.KeysFile == "" {
			v.add(path+".jwe.keys_file", "is required: a JWK Set of the gateway's decryption keys")
		}
		for i, a := range j.Algorithms {
			if a == "RSA1_5" {
				v.add(fmt.Sprintf("%s.jwe.algorithms[%d]", path, i), "RSA1_5 is never accepted (RFC 8725 §3.2)")
			}
		}
		if j.MaxP2C < 1 || j.MaxP2C > 1000000 {
			v.add(path+".jwe.max_p2c", "must be between 1 and 1000000")
		}
		if j.MaxZipBytes <= 0 || j.MaxZipBytes > 1<<20 {
			v.add(path+".jwe.max_zip_bytes", "must be between 1 and 1MiB")
		}
	}
	if p.MaxTokenBytes <= 0 || p.MaxTokenBytes > 64<<10 {
		v.add(path+".max_token_bytes", "must be between 1 and 64KiB")
	}
	if p.Cache.Size < 0 || p.Cache.TTL < 0 {
		v.add(path+".cache", "size and ttl must not be negative")
	}
}

// reservedForward are headers a jwt policy must not set: framing fields
// and those the gateway vouches for itself.
var reservedForward = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"upgrade": true, "te": true, "trailer": true, "keep-alive": true, "proxy-connection": true,
	"x-forwarded-for": true, "x-forwarded-proto": true, "x-forwarded-host": true,
	"x-real-ip": true, "x-request-id": true, "authorization": true, "cookie": true,
}

// keyURL accepts https URLs, and http URLs to loopback hosts.
func keyURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return u.Scheme == "http" && (h == "localhost" || (ip != nil && ip.IsLoopback()))
}
