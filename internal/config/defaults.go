package config

import (
	"fmt"
	"time"
)

// Defaults of the documented zero values.
const (
	DefaultListen              = "127.0.0.1:8080"
	DefaultMaxHeaderBytes      = 32 << 10
	DefaultMaxRequestLineBytes = 8 << 10
	DefaultMaxHeaderCount      = 100
	DefaultMaxBodyBytes        = 10 << 20
	DefaultReadHeaderTimeout   = 10 * time.Second
	DefaultReadTimeout         = 60 * time.Second
	DefaultWriteTimeout        = 60 * time.Second
	DefaultIdleTimeout         = 120 * time.Second
	DefaultMaxConnections      = 10000
	DefaultShutdownTimeout     = 30 * time.Second
	DefaultLogBufferLines      = 8192
	DefaultDialTimeout         = 5 * time.Second
	DefaultMaxIdleConns        = 512
	DefaultIdleConnTimeout     = 90 * time.Second
	DefaultHSTSMaxAge          = 365 * 24 * time.Hour
	DefaultCORSMaxAge          = 10 * time.Minute
)

// ApplyDefaults replaces documented zero values with their defaults. It is
// the only step of loading that changes the decoded config.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.TLS.MinVersion, "1.2")
	l := &c.Limits
	setDefault(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&l.MaxRequestLineBytes, DefaultMaxRequestLineBytes)
	setDefault(&l.MaxHeaderCount, DefaultMaxHeaderCount)
	setDefault(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&l.ReadHeaderTimeout, Duration(DefaultReadHeaderTimeout))
	setDefault(&l.ReadTimeout, Duration(DefaultReadTimeout))
	setDefault(&l.WriteTimeout, Duration(DefaultWriteTimeout))
	setDefault(&l.IdleTimeout, Duration(DefaultIdleTimeout))
	setDefault(&l.MaxConnections, DefaultMaxConnections)
	setDefault(&l.ShutdownTimeout, Duration(DefaultShutdownTimeout))
	setDefault(&c.State.Hot, "memory")
	setDefault(&c.State.Durable, "sqlite:drawbridge.db")
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Log.Output, "stderr")
	setDefault(&c.Log.BufferLines, DefaultLogBufferLines)
	for name, u := range c.Upstreams {
		setDefault(&u.DialTimeout, Duration(DefaultDialTimeout))
		setDefault(&u.MaxIdleConns, DefaultMaxIdleConns)
		setDefault(&u.IdleConnTimeout, Duration(DefaultIdleConnTimeout))
		c.Upstreams[name] = u
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		setDefault(&r.Name, fmt.Sprintf("routes[%d]", i))
		setDefault(&r.MaxBodyBytes, l.MaxBodyBytes)
		applyPolicyDefaults(r.Policies)
	}
	applyPolicyDefaults(c.Attestation.Policies)
	c.applyIssuerDefaults()
	c.applyAttestationDefaults()
	setDefault(&c.APIKeys.CacheTTL, Duration(DefaultAPIKeyCacheTTL))
}

// applyPolicyDefaults fills in the defaults of every layer of a chain.
func applyPolicyDefaults(ps []PolicySpec) {
	for _, p := range ps {
		if p.Headers != nil {
			setDefault(&p.Headers.HSTSMaxAge, Duration(DefaultHSTSMaxAge))
		}
		if p.CORS != nil {
			if len(p.CORS.AllowMethods) == 0 {
				p.CORS.AllowMethods = []string{"GET", "HEAD", "POST"}
			}
			setDefault(&p.CORS.MaxAge, Duration(DefaultCORSMaxAge))
		}
		if p.JWT != nil {
			p.JWT.applyDefaults()
		}
		if p.RateLimit != nil {
			p.RateLimit.applyDefaults()
		}
		applyProofDefaults(p)
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
