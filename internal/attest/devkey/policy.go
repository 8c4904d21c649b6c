package devkey

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Policy says which development evidence Verify accepts for one app. Its
// zero value trusts no CA and allows no development: Verify refuses
// everything under it with ReasonInvalidPolicy.
type Policy struct {
	// App is the app id (the gateway's, as in the config's apps) that the
	// device certificate must name. Required; see ValidApp.
	App string
	// CAs are the development CA certificates the device certificate must
	// chain to: the only roots, pinned. Required. They come from the
	// operator's `drawbridge attestation dev-ca`, never from the system
	// trust store.
	CAs []*x509.Certificate
	// AllowDevelopment is true only when the app's policy allows the
	// development environment. If false, every piece of evidence is
	// refused with ReasonEnvironmentNotAllowed: a production app never
	// accepts a key that a developer's laptop certified.
	AllowDevelopment bool
}

// Validate reports every problem with the policy at once. It changes
// nothing.
func (p Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("devkey: policy: "+format, args...))
	}
	if !ValidApp(p.App) {
		bad("app id %q is not 1 to %d letters, digits, '.', '_' or '-'", p.App, maxAppLen)
	}
	if len(p.CAs) == 0 {
		bad("no development CA")
	}
	for i, c := range p.CAs {
		switch {
		case c == nil:
			bad("CAs[%d] is nil", i)
		case !c.BasicConstraintsValid || !c.IsCA:
			bad("CAs[%d] (%s) is not a CA certificate", i, c.Subject)
		case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
			bad("CAs[%d] (%s) may not sign certificates", i, c.Subject)
		}
	}
	return errors.Join(errs...)
}

// maxAppLen bounds an app id.
const maxAppLen = 128

// ValidApp reports whether app can be named in a device certificate: 1 to
// 128 ASCII letters, digits, '.', '_' or '-'. These need no escaping in a
// URI, so the certificate's URI and the app id compare byte for byte.
func ValidApp(app string) bool {
	if app == "" || len(app) > maxAppLen {
		return false
	}
	for i := 0; i < len(app); i++ {
		c := app[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseCAs reads development CA certificates from PEM, as `drawbridge
// attestation dev-ca` writes ca.pem. Only CERTIFICATE blocks are allowed:
// a file that also holds a private key is refused, since the CA key must
// never be where the gateway runs.
func ParseCAs(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("devkey: a %s block where only CA certificates belong (keep the CA key off the gateway)", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("devkey: CA certificate %d: %v", len(out), err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("devkey: no PEM CERTIFICATE block")
	}
	return out, nil
}
