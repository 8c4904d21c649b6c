package config

import "time"

// Defaults of ratelimit layers.
const (
	DefaultRateLimitIPv6Prefix = 64
	DefaultRateLimitTimeout    = 100 * time.Millisecond
	DefaultRateLimitPer        = time.Second
)

func (p *RateLimitPolicy) applyDefaults() {
	setDefault(&p.IPv6Prefix, DefaultRateLimitIPv6Prefix)
	setDefault(&p.OnStoreError, "open")
	setDefault(&p.Timeout, Duration(DefaultRateLimitTimeout))
	for i := range p.Limits {
		l := &p.Limits[i]
		setDefault(&l.Per, Duration(DefaultRateLimitPer))
		setDefault(&l.Burst, l.Rate)
	}
}
