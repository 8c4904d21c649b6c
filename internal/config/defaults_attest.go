package config

import "time"

// Defaults of the attestation service and policy.
const (
	DefaultAttestationIssuer = "drawbridge"
	DefaultAttestTokenTTL    = 5 * time.Minute
	DefaultChallengeTTL      = 2 * time.Minute
	DefaultAttestationHeader = "Attestation-Token"
	DefaultAttestLeeway      = 10 * time.Second
)

func (c *Config) applyAttestationDefaults() {
	a := &c.Attestation
	setDefault(&a.Issuer, DefaultAttestationIssuer)
	setDefault(&a.TokenTTL, Duration(DefaultAttestTokenTTL))
	setDefault(&a.ChallengeTTL, Duration(DefaultChallengeTTL))
	for name, app := range c.Apps {
		if len(app.Environments) == 0 {
			app.Environments = []string{"production"}
		}
		setDefault(&app.TokenTTL, a.TokenTTL)
		if app.Play != nil {
			setDefault(&app.Play.DeviceIntegrity, "MEETS_DEVICE_INTEGRITY")
		}
		c.Apps[name] = app
	}
	apply := func(ps []PolicySpec) {
		for _, p := range ps {
			if ap := p.Attestation; ap != nil {
				setDefault(&ap.Header, DefaultAttestationHeader)
				if ap.Leeway == nil {
					d := Duration(DefaultAttestLeeway)
					ap.Leeway = &d
				}
			}
		}
	}
	for i := range c.Routes {
		apply(c.Routes[i].Policies)
	}
	apply(a.Policies)
}
