package androidkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"time"
)

// Size limits, checked before anything is parsed.
const (
	// MaxChainLength is the most certificates a chain may hold. Real
	// chains hold 3 to 5 (leaf, one to three intermediates, root).
	MaxChainLength = 10
	// MaxCertSize is the largest certificate accepted, in bytes. Real
	// ones stay under 2 KiB; Keystore caps the attestationApplicationId,
	// the leaf's largest variable part, at 1 KiB.
	MaxCertSize = 16 << 10
)

// minRSABits is the smallest RSA key accepted to sign a certificate.
const minRSABits = 2048

// signatureAlgorithms is the allow-list of certificate signature
// algorithms. crypto/x509's Certificate.CheckSignature still accepts
// SHA-1; a chain signed with it is refused here.
var signatureAlgorithms = map[x509.SignatureAlgorithm]bool{
	x509.SHA256WithRSA:    true,
	x509.SHA384WithRSA:    true,
	x509.SHA512WithRSA:    true,
	x509.SHA256WithRSAPSS: true,
	x509.SHA384WithRSAPSS: true,
	x509.SHA512WithRSAPSS: true,
	x509.ECDSAWithSHA256:  true,
	x509.ECDSAWithSHA384:  true,
	x509.ECDSAWithSHA512:  true,
	x509.PureEd25519:      true,
}

// parseChain applies the size limits, then parses every certificate. It
// returns a reason code on failure.
func parseChain(chain [][]byte) ([]*x509.Certificate, string) {
	if len(chain) > MaxChainLength {
		return nil, ReasonTooLarge
	}
	for _, der := range chain {
		if len(der) > MaxCertSize {
			return nil, ReasonTooLarge
		}
	}
	if len(chain) < 2 {
		return nil, ReasonMalformedChain
	}
	certs := make([]*x509.Certificate, len(chain))
	for i, der := range chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, ReasonMalformedChain
		}
		certs[i] = c
	}
	return certs, ""
}

// checkChain runs the certificate checks on a parsed chain (leaf first)
// and records the failures in failed.
func checkChain(failed map[string]bool, certs []*x509.Certificate, p *compiled, at time.Time) {
	top := len(certs) - 1
	for i, c := range certs {
		// Each certificate is checked against the key of the next one, the
		// top one against its own key. Issuer and subject names are not
		// compared and no path is built: the order is the device's, and
		// real chains carry issuer names that differ from their signers'
		// subjects (the StrongBox EC sample of google/android-key-attestation
		// has a leaf issued by "serialNumber=697bc64b6cd4c01e" and signed by
		// the key of "serialNumber=ccce263fd08dac3a"), so name chaining would
		// refuse real devices while adding nothing a signature does not
		// prove.
		signer := c
		if i < top {
			signer = certs[i+1]
		}
		if !signedBy(c, signer) {
			failed[ReasonBadSignatureChain] = true
		}
		if !constraintsHold(c, i) {
			failed[ReasonConstraintViolation] = true
		}
		notBefore, notAfter := c.NotBefore, c.NotAfter
		if i == 0 {
			// The leaf is written by the device with the device's clock.
			// Emulator leaves may even have notAfter before notBefore;
			// those stay refused, skew or not.
			notBefore, notAfter = notBefore.Add(-p.leafSkew), notAfter.Add(p.leafSkew)
		}
		// The top certificate of a trusted chain is a trust anchor, matched
		// by its key: Google re-issued its root key in new certificates,
		// but devices keep the certificate they were provisioned with, so
		// its validity period says nothing (RFC 5280 §6.1.1(d): a trust
		// anchor's inputs are its name and key; Java's PKIX does the same).
		anchor := i == top && p.trustsRoot(c.RawSubjectPublicKeyInfo)
		if at.After(notAfter) && !anchor {
			failed[ReasonCertExpired] = true
		}
		if at.Before(notBefore) && !anchor {
			failed[ReasonCertNotYetValid] = true
		}
		if i > 0 {
			// Only intermediates and roots: leaf serials are not unique
			// (Keystore gives every leaf serial 1 unless the app sets one),
			// so a listed leaf serial would refuse every device.
			if _, listed := p.Revoked.Lookup(c.SerialNumber); listed {
				failed[ReasonRevoked] = true
			}
		}
	}
	if !p.trustsRoot(certs[top].RawSubjectPublicKeyInfo) {
		failed[ReasonUntrustedRoot] = true
	}
}

// signedBy reports whether c's signature verifies with signer's public
// key, under an allowed algorithm and a key strong enough to sign.
func signedBy(c, signer *x509.Certificate) bool {
	if !signatureAlgorithms[c.SignatureAlgorithm] {
		return false
	}
	switch k := signer.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return false
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return false
		}
	case ed25519.PublicKey:
	default:
		return false
	}
	// CheckSignature, not CheckSignatureFrom: the CA constraints are
	// checked by constraintsHold, where present, with their own reason.
	return signer.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// constraintsHold checks what an issuing certificate (index i > 0, i-1
// CA certificates below it) says about itself, where it says it: basic
// constraints cA and pathLenConstraint, key usage keyCertSign. Some
// device-provisioned intermediates carry no such extensions; their
// absence is not a failure. Every certificate must have no unhandled
// critical extension (RFC 5280 §4.2), and only the leaf may carry a
// KeyDescription.
func constraintsHold(c *x509.Certificate, i int) bool {
	if len(c.UnhandledCriticalExtensions) > 0 {
		return false
	}
	if i == 0 {
		return true
	}
	if c.BasicConstraintsValid && (!c.IsCA || c.MaxPathLen >= 0 && i-1 > c.MaxPathLen) {
		return false
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(OIDKeyDescription) {
			return false
		}
	}
	return true
}

// trustsRoot reports whether spki is one of the trusted root keys. The
// keys are public: no constant-time comparison is needed.
func (p *compiled) trustsRoot(spki []byte) bool {
	for _, k := range p.roots {
		if bytes.Equal(k, spki) {
			return true
		}
	}
	return false
}
