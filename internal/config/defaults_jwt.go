package config

import "time"

// Defaults of issuers and jwt policies.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultKeyRefreshMin      = time.Minute
	DefaultKeyRefreshMax      = time.Hour
	DefaultUnknownKIDInterval = time.Minute
	DefaultMaxTokenBytes      = 16 << 10
	DefaultTokenCacheSize     = 10000
	DefaultTokenCacheTTL      = 5 * time.Minute
	DefaultMaxP2C             = 10000
	DefaultMaxZipBytes        = 64 << 10
)

func (c *Config) applyIssuerDefaults() {
	for name, is := range c.Issuers {
		if is.Leeway == nil {
			d := Duration(DefaultLeeway)
			is.Leeway = &d
		}
		setDefault(&is.Refresh.Min, Duration(DefaultKeyRefreshMin))
		setDefault(&is.Refresh.Max, Duration(DefaultKeyRefreshMax))
		setDefault(&is.Refresh.UnknownKIDInterval, Duration(DefaultUnknownKIDInterval))
		c.Issuers[name] = is
	}
}

func (p *JWTPolicy) applyDefaults() {
	if len(p.Schemes) == 0 {
		p.Schemes = []string{"Bearer"}
	}
	setDefault(&p.MaxTokenBytes, DefaultMaxTokenBytes)
	setDefault(&p.Cache.Size, DefaultTokenCacheSize)
	setDefault(&p.Cache.TTL, Duration(DefaultTokenCacheTTL))
	if j := p.JWE; j != nil {
		if len(j.Algorithms) == 0 {
			j.Algorithms = []string{"RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW", "dir"}
		}
		if len(j.Encryption) == 0 {
			j.Encryption = []string{"A256GCM"}
		}
		setDefault(&j.MaxP2C, DefaultMaxP2C)
		setDefault(&j.MaxZipBytes, DefaultMaxZipBytes)
	}
}
