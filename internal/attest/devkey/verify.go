package devkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// Platform and Environment are attest.Facts.Platform and
// attest.Facts.Environment for this format: development evidence is
// never anything but development.
const (
	Platform    = "dev"
	Environment = "development"
)

// Size limits, checked before anything is parsed.
const (
	// MaxChainLength is the most certificates a chain may hold: the device
	// certificate, and an intermediate CA or the root if a team adds them.
	MaxChainLength = 4
	// MaxCertSize is the largest certificate accepted, in bytes; ours are
	// about 500.
	MaxCertSize = 8 << 10
	// MaxSignatureSize is the largest signature accepted, in bytes. An
	// ECDSA P-256 signature in ASN.1 DER is at most 72.
	MaxSignatureSize = 128
)

// Expect is what the server knows about one request before it reads the
// evidence.
type Expect struct {
	// ClientDataHash is SHA-256 of the client data (docs/protocol.md §2),
	// which the device key must have signed. Required, 32 bytes.
	ClientDataHash []byte
	// BoundKey is the jkt the client data names, when the caller parsed
	// it. Facts.BoundKey is set to it once the signature verifies.
	BoundKey string
}

// Verifier is a compiled Policy. It is safe for concurrent use.
type Verifier struct {
	p     Policy
	roots *x509.CertPool
}

// New validates p and compiles it.
func New(p Policy) (*Verifier, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	for _, c := range p.CAs {
		roots.AddCert(c)
	}
	return &Verifier{p: p, roots: roots}, nil
}

// Verify compiles p and verifies one piece of evidence with it. A policy
// that does not compile gives ReasonInvalidPolicy.
func Verify(ev Evidence, exp Expect, p Policy, at time.Time) attest.Result {
	v, err := New(p)
	if err != nil {
		r := attest.Result{Facts: attest.Facts{Platform: Platform, Environment: Environment}}
		r.Fail(ReasonInvalidPolicy)
		return r.Finish()
	}
	return v.Verify(ev, exp, at)
}

// Verify checks development evidence as of time at. It never reads the
// clock.
//
// The result is valid only when every check passes. Reasons lists every
// failed check in the order of the Reasons variable. Facts are filled as
// far as the evidence could be read, and are for diagnosis only when the
// result is invalid: Platform "dev", Environment "development" always;
// AppID the app the device certificate names; PublicKey the device key
// (PKIX DER) and KeyID the standard base64 of its SHA-256; NotAfter the
// earliest notAfter of the chain (when it stops verifying); BoundKey
// exp.BoundKey once the signature verifies.
func (v *Verifier) Verify(ev Evidence, exp Expect, at time.Time) attest.Result {
	var r attest.Result
	r.Facts.Platform, r.Facts.Environment = Platform, Environment
	if v == nil || len(exp.ClientDataHash) != sha256.Size || at.IsZero() {
		r.Fail(ReasonInvalidPolicy)
		return r.Finish()
	}
	failed := map[string]bool{}
	if !v.p.AllowDevelopment {
		failed[ReasonEnvironmentNotAllowed] = true
	}
	certs, reason := parseChain(ev)
	if reason != "" {
		failed[reason] = true
		return finish(&r, failed)
	}
	leaf := certs[0]
	r.Facts.PublicKey = append([]byte(nil), leaf.RawSubjectPublicKeyInfo...)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	r.Facts.KeyID = base64.StdEncoding.EncodeToString(sum[:])

	chain := v.checkChain(failed, certs, at)
	r.Facts.NotAfter = leaf.NotAfter
	for _, c := range chain {
		if c.NotAfter.Before(r.Facts.NotAfter) {
			r.Facts.NotAfter = c.NotAfter
		}
	}

	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() || leaf.IsCA || leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		failed[ReasonBadDeviceCert] = true
	}
	app, ok := AppOf(leaf)
	r.Facts.AppID = app
	if !ok || app != v.p.App {
		failed[ReasonWrongApp] = true
	}
	// The app signs client_data_hash as its message with ECDSA P-256 and
	// SHA-256 (Android "SHA256withECDSA", iOS
	// .ecdsaSignatureMessageX962SHA256): the digest verified is
	// SHA-256(client_data_hash).
	digest := sha256.Sum256(exp.ClientDataHash)
	if pub == nil || pub.Curve != elliptic.P256() || !ecdsa.VerifyASN1(pub, digest[:], ev.Signature) {
		failed[ReasonBadSignature] = true
	} else {
		r.Facts.BoundKey = exp.BoundKey
	}
	return finish(&r, failed)
}

// finish records the failures in the documented order and sets Valid.
func finish(r *attest.Result, failed map[string]bool) attest.Result {
	for _, code := range Reasons {
		if failed[code] {
			r.Fail(code)
		}
	}
	return r.Finish()
}

// parseChain applies the size limits, then parses every certificate.
func parseChain(ev Evidence) ([]*x509.Certificate, string) {
	if len(ev.Chain) > MaxChainLength || len(ev.Signature) > MaxSignatureSize {
		return nil, ReasonTooLarge
	}
	for _, der := range ev.Chain {
		if len(der) > MaxCertSize {
			return nil, ReasonTooLarge
		}
	}
	if len(ev.Chain) == 0 {
		return nil, ReasonMalformedChain
	}
	certs := make([]*x509.Certificate, len(ev.Chain))
	for i, der := range ev.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, ReasonMalformedChain
		}
		certs[i] = c
	}
	return certs, ""
}

// checkChain verifies the device certificate to the pinned CAs at time
// at with crypto/x509, and returns the chain it found (nil if none).
//
// x509.Verify reports one error, the first it meets, and a certificate
// outside its validity hides whether the chain is trusted at all. So
// when verification at `at` fails, the chain is verified again as of the
// device certificate's notBefore: if it verifies then, the only problem
// is time, and each certificate of that chain is compared with `at`;
// if it does not, the CA is untrusted (and the device certificate's own
// validity is still reported).
func (v *Verifier) checkChain(failed map[string]bool, certs []*x509.Certificate, at time.Time) []*x509.Certificate {
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   at,
		// The device certificate carries no extended key usage: it is not
		// a TLS certificate. Any is accepted, so that x509.Verify does not
		// default to serverAuth.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if chains, err := leaf.Verify(opts); err == nil {
		return chains[0]
	}
	opts.CurrentTime = leaf.NotBefore
	chains, err := leaf.Verify(opts)
	if err != nil {
		failed[ReasonUntrustedCA] = true
		checkValidity(failed, []*x509.Certificate{leaf}, at)
		return nil
	}
	checkValidity(failed, chains[0], at)
	return chains[0]
}

// checkValidity compares each certificate's validity with at.
func checkValidity(failed map[string]bool, chain []*x509.Certificate, at time.Time) {
	for _, c := range chain {
		if at.After(c.NotAfter) {
			failed[ReasonCertExpired] = true
		}
		if at.Before(c.NotBefore) {
			failed[ReasonCertNotYetValid] = true
		}
	}
}

// URIScheme is the scheme of the URI subject alternative name that names
// the app in a device certificate: drawbridge-dev:app/<app>.
const URIScheme = "drawbridge-dev"

// AppURI is the URI that names app in a device certificate.
func AppURI(app string) string { return URIScheme + ":app/" + app }

// AppOf returns the app a device certificate names, and whether it names
// exactly one valid app id. URIs of other schemes are ignored.
func AppOf(c *x509.Certificate) (string, bool) {
	var apps []string
	for _, u := range c.URIs {
		if u.Scheme != URIScheme {
			continue
		}
		app, found := strings.CutPrefix(u.Opaque, "app/")
		if !found || u.Host != "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return "", false
		}
		apps = append(apps, app)
	}
	if len(apps) != 1 || !ValidApp(apps[0]) {
		return "", false
	}
	return apps[0], true
}
