package gateway

import (
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// userAgentPolicy matches the User-Agent header against glob patterns. It
// is a weak layer: it stops lazy scripts and scanners that announce
// themselves, never a determined client, which can send any User-Agent.
// Attestation answers what the client really is.
type userAgentPolicy struct {
	allow, deny []glob
	denyEmpty   bool
}

func buildUserAgent(spec *config.PolicySpec, _ *buildEnv) (Policy, []config.Problem) {
	c := spec.UserAgent
	p := &userAgentPolicy{denyEmpty: c.DenyEmpty}
	for _, s := range c.Allow {
		p.allow = append(p.allow, compileGlob(s))
	}
	for _, s := range c.Deny {
		p.deny = append(p.deny, compileGlob(s))
	}
	return p, nil
}

func (p *userAgentPolicy) Decide(s *Scope) error {
	ua := s.Request.Header.Get("User-Agent")
	if ua == "" {
		if p.denyEmpty || len(p.allow) > 0 {
			return Deny("useragent.missing")
		}
		return nil
	}
	for _, g := range p.deny {
		if g.match(ua) {
			return Deny("useragent.denied")
		}
	}
	if len(p.allow) == 0 {
		return nil
	}
	for _, g := range p.allow {
		if g.match(ua) {
			return nil
		}
	}
	return Deny("useragent.denied")
}

// glob is a case-insensitive pattern where '*' matches any run of bytes.
type glob struct {
	parts []string // lower-cased literal parts between stars
	head  bool     // pattern starts with a literal (anchored)
	tail  bool     // pattern ends with a literal (anchored)
}

func compileGlob(p string) glob {
	lp := strings.ToLower(p)
	return glob{
		parts: strings.Split(lp, "*"),
		head:  !strings.HasPrefix(lp, "*"),
		tail:  !strings.HasSuffix(lp, "*"),
	}
}

func (g glob) match(s string) bool {
	parts := g.parts
	if len(parts) == 1 {
		return strings.EqualFold(s, parts[0])
	}
	if g.head {
		if len(s) < len(parts[0]) || !strings.EqualFold(s[:len(parts[0])], parts[0]) {
			return false
		}
		s = s[len(parts[0]):]
	}
	last := parts[len(parts)-1]
	mid := parts[1 : len(parts)-1]
	for _, part := range mid {
		i := indexFold(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	if g.tail {
		return len(s) >= len(last) && strings.EqualFold(s[len(s)-len(last):], last)
	}
	return true
}

// indexFold is a case-insensitive strings.Index for an ASCII-lower needle.
func indexFold(s, lowerNeedle string) int {
	n := len(lowerNeedle)
	if n == 0 {
		return 0
	}
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], lowerNeedle) {
			return i
		}
	}
	return -1
}

var _ Policy = (*userAgentPolicy)(nil)
