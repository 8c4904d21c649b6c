package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// validateAttestation checks apps, the attestation service and every
// attestation policy, including that policies name defined apps.
func (c *Config) validateAttestation(v *validator) {
	for _, name := range sortedKeys(c.Apps) {
		c.Apps[name].validate(v, "apps."+name)
	}
	a := &c.Attestation
	if a.Prefix != "" && (!strings.HasPrefix(a.Prefix, "/") || strings.HasSuffix(a.Prefix, "/")) {
		v.add("attestation.prefix", "want a path such as /attest: starting with / and not ending with one")
	}
	if a.TokenTTL < 0 || a.ChallengeTTL < 0 {
		v.add("attestation", "token_ttl and challenge_ttl must not be negative")
	}
	if a.AttestationEnabled(c) && len(c.Apps) == 0 {
		v.add("attestation.enabled", "the attestation service needs at least one app in apps")
	}
	for i := range a.Policies {
		a.Policies[i].validate(v, fmt.Sprintf("attestation.policies[%d]", i))
	}
	for _, name := range sortedKeys(a.External) {
		a.External[name].validate(v, "attestation.external."+name, c)
	}
	for ri := range c.Routes {
		for pi, spec := range c.Routes[ri].Policies {
			if spec.Attestation == nil {
				continue
			}
			p := fmt.Sprintf("routes[%d].policies[%d].attestation", ri, pi)
			spec.Attestation.validate(v, p, c)
		}
	}
}

// AttestationEnabled reports whether the service endpoints are served:
// attestation.enabled, or by default whenever apps are configured.
func (a *Attestation) AttestationEnabled(c *Config) bool {
	if a.Enabled != nil {
		return *a.Enabled
	}
	return len(c.Apps) > 0
}

func (app App) validate(v *validator, p string) {
	if app.Apple == nil && app.Android == nil && app.Play == nil && app.Dev == nil {
		v.add(p, "an app needs at least one platform: apple, android, play or dev")
	}
	for i, e := range app.Environments {
		if e != "production" && e != "development" {
			v.add(fmt.Sprintf("%s.environments[%d]", p, i), "want production or development, got %q", e)
		}
	}
	if app.Dev != nil && !slices.Contains(app.Environments, "development") {
		v.add(p+".dev", "development attestation needs environments to include development")
	}
	if app.MinVersion != "" && !validVersion(app.MinVersion) {
		v.add(p+".min_version", "want a dotted version such as 2.4.1, got %q", app.MinVersion)
	}
	for i, ver := range app.BlockedVersions {
		if strings.TrimSpace(ver) == "" {
			v.add(fmt.Sprintf("%s.blocked_versions[%d]", p, i), "must not be empty")
		}
	}
	if a := app.Apple; a != nil {
		if a.TeamID == "" || a.BundleID == "" {
			v.add(p+".apple", "team_id and bundle_id are required")
		}
	}
	if a := app.Android; a != nil {
		if a.Package == "" {
			v.add(p+".android.package", "is required")
		}
		if len(a.SigningCertDigests) == 0 {
			v.add(p+".android.signing_cert_digests", "list the SHA-256 digests of the app's signing certificates")
		}
		for i, d := range a.SigningCertDigests {
			if _, err := ParseDigest(d); err != nil {
				v.add(fmt.Sprintf("%s.android.signing_cert_digests[%d]", p, i), "%v", err)
			}
		}
	}
	if a := app.Play; a != nil {
		if a.Package == "" {
			v.add(p+".play.package", "is required")
		}
		if a.DecryptionKey == "" || a.VerificationKey == "" {
			v.add(p+".play", "decryption_key and verification_key (from Play Console) are required")
		}
		switch a.DeviceIntegrity {
		case "", "MEETS_DEVICE_INTEGRITY", "MEETS_STRONG_INTEGRITY", "MEETS_BASIC_INTEGRITY":
		default:
			v.add(p+".play.device_integrity", "want MEETS_DEVICE_INTEGRITY, MEETS_STRONG_INTEGRITY or MEETS_BASIC_INTEGRITY")
		}
		for i, d := range a.SigningCertDigests {
			if _, err := ParseDigest(d); err != nil {
				v.add(fmt.Sprintf("%s.play.signing_cert_digests[%d]", p, i), "%v", err)
			}
		}
	}
	if a := app.Dev; a != nil && len(a.CAFiles) == 0 {
		v.add(p+".dev.ca_files", "list the development CA certificates")
	}
}

func (e ExternalAttestation) validate(v *validator, p string, c *Config) {
	switch e.Type {
	case "firebase_app_check":
		if _, err := strconv.ParseUint(e.ProjectNumber, 10, 64); err != nil {
			v.add(p+".project_number", "want the Firebase project number (digits), which App Check tokens name")
		}
		if _, ok := e.Apps["*"]; ok {
			v.add(p+".apps", `map each Firebase app id (the tokens' sub) to an app; "*" is for approov`)
		}
		if e.Secret != "" || e.BindAuthorization {
			v.add(p, "secret and bind_authorization are for approov")
		}
	case "approov":
		// The message never quotes the secret.
		if b, err := base64.StdEncoding.DecodeString(e.Secret); err != nil || len(b) < 32 {
			v.add(p+".secret", "want the Approov account secret: standard base64 of at least 32 bytes (use ${file:...})")
		}
		if _, ok := e.Apps["*"]; !ok || len(e.Apps) != 1 {
			v.add(p+".apps", `Approov tokens do not name the app: give one entry, {"*": app}`)
		}
		if e.ProjectNumber != "" || e.JWKSURL != "" {
			v.add(p, "project_number and jwks_url are for firebase_app_check")
		}
	default:
		v.add(p+".type", "want firebase_app_check or approov, got %q", e.Type)
	}
	if len(e.Apps) == 0 {
		v.add(p+".apps", "map the service's app ids to apps of this config")
	}
	for ext, app := range e.Apps {
		if _, ok := c.Apps[app]; !ok {
			v.add(p+".apps."+ext, "unknown app %q", app)
		}
	}
}

func (a *AttestationPolicy) validate(v *validator, p string, c *Config) {
	if len(a.Apps) == 0 {
		v.add(p+".apps", "name the apps that may call the route")
	}
	for i, app := range a.Apps {
		if _, ok := c.Apps[app]; !ok {
			v.add(fmt.Sprintf("%s.apps[%d]", p, i), "unknown app %q (defined: %s)", app, strings.Join(sortedKeys(c.Apps), ", "))
		}
	}
	for i, ext := range a.External {
		if _, ok := c.Attestation.External[ext]; !ok {
			v.add(fmt.Sprintf("%s.external[%d]", p, i), "unknown attestation.external entry %q", ext)
		}
	}
	if a.Header != "" && !isToken(a.Header) {
		v.add(p+".header", "want a header name, got %q", a.Header)
	}
	if a.JWKSURL == "" && !c.Attestation.AttestationEnabled(c) && len(a.External) == 0 {
		v.add(p, "no attestation keys: enable the attestation service, or set jwks_url to a service running elsewhere")
	}
}

// ParseDigest reads a SHA-256 digest as hex (colons allowed) or base64.
func ParseDigest(s string) ([]byte, error) {
	h := strings.ReplaceAll(s, ":", "")
	if b, err := hex.DecodeString(h); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("want a SHA-256 digest in hex or base64, got %q", s)
}

func validVersion(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
