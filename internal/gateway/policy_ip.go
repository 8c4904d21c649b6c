package gateway

import (
	"net/netip"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// ipPolicy allows or denies client addresses. The address is the one the
// gateway worked out from the TCP peer and trusted proxies, never a header
// the client chose.
type ipPolicy struct {
	allow, deny []netip.Prefix
}

func buildIP(spec *config.PolicySpec, _ *buildEnv) (Policy, []config.Problem) {
	p := &ipPolicy{}
	for _, a := range spec.IP.Allow {
		p.allow = append(p.allow, a.Prefix)
	}
	for _, d := range spec.IP.Deny {
		p.deny = append(p.deny, d.Prefix)
	}
	return p, nil
}

func (p *ipPolicy) Decide(s *Scope) error {
	ip := s.ClientIP
	if !ip.IsValid() {
		return Deny("ip.denied")
	}
	if containsAddr(p.deny, ip) {
		return Deny("ip.denied")
	}
	if len(p.allow) > 0 && !containsAddr(p.allow, ip) {
		return Deny("ip.denied")
	}
	return nil
}

func containsAddr(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var _ Policy = (*ipPolicy)(nil)
