package token

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Claims are the claims of a verified token. Registered claims (RFC 7519
// §4.1) are decoded into fields; every claim is available by name.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ID        string
	Expiry    time.Time // zero when absent
	NotBefore time.Time // zero when absent
	IssuedAt  time.Time // zero when absent

	raw map[string]any
}

// Get returns a claim as decoded from JSON: string, json.Number, bool,
// nil, []any or map[string]any. The value must not be modified.
func (c *Claims) Get(name string) (any, bool) {
	v, ok := c.raw[name]
	return v, ok
}

// Map returns every claim. The map must not be modified.
func (c *Claims) Map() map[string]any { return c.raw }

// String returns a claim that is a JSON string, or a number as written.
func (c *Claims) String(name string) (string, bool) {
	switch v := c.raw[name].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// Scopes returns the token's scopes: the space-separated "scope" claim
// (RFC 8693 §4.2, RFC 9068 §2.2.3), or else a "scp" array of strings.
func (c *Claims) Scopes() []string {
	if s, ok := c.raw["scope"].(string); ok {
		return strings.Fields(s)
	}
	if arr, ok := c.raw["scp"].([]any); ok {
		out := make([]string, 0, len(arr))
		for _, v := range arr {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// dateFormat says how a token writes times.
type dateFormat int

const (
	numericDate dateFormat = iota // JWT: seconds since the epoch (RFC 7519 §2)
	rfc3339Date                   // PASETO: RFC 3339 strings
)

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are mistakes or
// attempts to overflow.
const maxNumericDate = 253402300799

// parseClaims decodes a payload into Claims, refusing registered claims of
// the wrong type (RFC 7519 §4.1; JWT-19: "exp" as a string, a float out of
// range, a boolean, null).
func parseClaims(payload []byte, f dateFormat) (*Claims, error) {
	m, err := parseObject(payload)
	if err != nil {
		return nil, objectError(err, ReasonBadClaims, "the payload")
	}
	c := &Claims{raw: m}
	bad := func(what string) error {
		return newError(ReasonBadClaims, "claim "+what+" has the wrong type or value")
	}
	for _, name := range [...]string{"iss", "sub", "jti"} {
		v, ok := m[name]
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			return nil, bad(name)
		}
		switch name {
		case "iss":
			c.Issuer = s
		case "sub":
			c.Subject = s
		case "jti":
			c.ID = s
		}
	}
	if v, ok := m["aud"]; ok {
		switch a := v.(type) {
		case string:
			c.Audience = []string{a}
		case []any:
			for _, e := range a {
				s, ok := e.(string)
				if !ok {
					return nil, bad("aud")
				}
				c.Audience = append(c.Audience, s)
			}
		default:
			return nil, bad("aud")
		}
	}
	for _, d := range [...]struct {
		name string
		dst  *time.Time
	}{{"exp", &c.Expiry}, {"nbf", &c.NotBefore}, {"iat", &c.IssuedAt}} {
		v, ok := m[d.name]
		if !ok {
			continue
		}
		t, ok := parseDate(v, f)
		if !ok {
			return nil, bad(d.name)
		}
		*d.dst = t
	}
	return c, nil
}

func parseDate(v any, f dateFormat) (time.Time, bool) {
	switch f {
	case numericDate:
		n, ok := v.(json.Number)
		if !ok {
			return time.Time{}, false
		}
		x, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > maxNumericDate {
			return time.Time{}, false
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	default:
		s, ok := v.(string)
		if !ok {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, false
		}
		return t.UTC(), true
	}
}

// checkClaims applies an issuer's time, audience and required-claim
// rules, in the documented order.
func (is *issuer) checkClaims(c *Claims, now time.Time) error {
	lw := is.cfg.Leeway
	if c.Expiry.IsZero() {
		if !is.cfg.AllowMissingExp {
			return newError(ReasonMissingExp, "no exp claim")
		}
	} else if !now.Before(c.Expiry.Add(lw)) {
		// RFC 7519 §4.1.4: the current time MUST be before exp.
		return newError(ReasonExpired, "expired")
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(lw)) {
		return newError(ReasonNotYetValid, "not valid yet (nbf)")
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(lw)) {
		return newError(ReasonNotYetValid, "issued in the future (iat)")
	}
	if is.cfg.MaxAge > 0 {
		if c.IssuedAt.IsZero() {
			return newError(ReasonMissingClaim, "no iat claim, which the issuer's max age needs")
		}
		if now.Sub(c.IssuedAt) > is.cfg.MaxAge+lw {
			return newError(ReasonTooOld, "older than the issuer's max age")
		}
	}
	if len(is.cfg.Audiences) > 0 && !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(is.cfg.Audiences, a) }) {
		return newError(ReasonAudience, "aud names none of the configured audiences")
	}
	for _, name := range is.cfg.RequiredClaims {
		if _, ok := c.raw[name]; !ok {
			return newError(ReasonMissingClaim, "a required claim is missing")
		}
	}
	return nil
}

// normaliseType reads a typ or cty value as RFC 7515 §4.1.9 says:
// case-insensitive, with an omitted "application/" prefix.
func normaliseType(t string) string {
	t = strings.ToLower(t)
	return strings.TrimPrefix(t, "application/")
}
