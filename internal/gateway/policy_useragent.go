package gateway

import (
	"bytes"
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
	var buf [512]byte
	lower := lowerASCII(ua, buf[:])
	for _, g := range p.deny {
		if g.match(lower) {
			return Deny("useragent.denied")
		}
	}
	if len(p.allow) == 0 {
		return nil
	}
	for _, g := range p.allow {
		if g.match(lower) {
			return nil
		}
	}
	return Deny("useragent.denied")
}

// glob is a case-insensitive pattern where '*' matches any run of bytes.
// Matching lower-cases the subject once (ASCII; User-Agents are ASCII)
// and then searches for each literal part with bytes.Index.
type glob struct {
	parts [][]byte // lower-cased literal parts between stars
	head  bool     // pattern starts with a literal (anchored)
	tail  bool     // pattern ends with a literal (anchored)
}

func compileGlob(p string) glob {
	lp := strings.ToLower(p)
	g := glob{head: !strings.HasPrefix(lp, "*"), tail: !strings.HasSuffix(lp, "*")}
	for _, part := range strings.Split(lp, "*") {
		g.parts = append(g.parts, []byte(part))
	}
	return g
}

// lowerASCII writes the ASCII lower case of s into buf when it fits,
// else allocates.
func lowerASCII(s string, buf []byte) []byte {
	if len(s) > len(buf) {
		return []byte(strings.ToLower(s))
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}

// match reports whether the lower-cased subject s matches.
func (g glob) match(s []byte) bool {
	parts := g.parts
	if len(parts) == 1 {
		return bytes.Equal(s, parts[0])
	}
	if g.head {
		if !bytes.HasPrefix(s, parts[0]) {
			return false
		}
		s = s[len(parts[0]):]
	}
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := bytes.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	if g.tail {
		return bytes.HasSuffix(s, last)
	}
	return true
}

var _ Policy = (*userAgentPolicy)(nil)
