package devkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// Lifetimes of what the issuing helpers make.
const (
	// DefaultCALifetime is a development CA's lifetime when none is given.
	DefaultCALifetime = 3 * 365 * 24 * time.Hour
	// DefaultDeviceLifetime is a device certificate's lifetime when none
	// is given, and MaxDeviceLifetime the longest IssueDevice makes: a
	// development key that leaks stops working soon.
	DefaultDeviceLifetime = 30 * 24 * time.Hour
	MaxDeviceLifetime     = 90 * 24 * time.Hour
	// Backdate is how far before "now" certificates start, so that a
	// gateway whose clock is a little behind the developer's accepts them.
	Backdate = 5 * time.Minute
)

// NewCA makes a development CA: an ECDSA P-256 key and a self-signed
// certificate "drawbridge development CA", valid from now (less
// Backdate) for lifetime (DefaultCALifetime if zero), allowed to sign
// device certificates and nothing below them. The key is the operator's
// to keep: it never goes where the gateway runs, nor into a repository.
func NewCA(now time.Time, lifetime time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if lifetime == 0 {
		lifetime = DefaultCALifetime
	}
	if lifetime < 0 {
		return nil, nil, errors.New("devkey: negative CA lifetime")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "drawbridge development CA"},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// IssueDevice certifies a device's ECDSA P-256 public key for app, valid
// from now (less Backdate) for lifetime (DefaultDeviceLifetime if zero,
// at most MaxDeviceLifetime, and never past the CA's own notAfter). The
// certificate is not a CA, may only sign (digitalSignature), and names
// the app in its one URI subject alternative name, drawbridge-dev:app/<app>
// (AppURI): a URI SAN rather than a private extension, so that openssl
// and every X.509 tool show it.
func IssueDevice(ca *x509.Certificate, caKey crypto.Signer, device crypto.PublicKey, app string, now time.Time, lifetime time.Duration) (*x509.Certificate, error) {
	if !ValidApp(app) {
		return nil, fmt.Errorf("devkey: app id %q is not 1 to %d letters, digits, '.', '_' or '-'", app, maxAppLen)
	}
	if pub, ok := device.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("devkey: a device key must be ECDSA P-256")
	}
	switch {
	case lifetime == 0:
		lifetime = DefaultDeviceLifetime
	case lifetime < 0 || lifetime > MaxDeviceLifetime:
		return nil, fmt.Errorf("devkey: device lifetime must be within (0, %v]", MaxDeviceLifetime)
	}
	notAfter := now.Add(lifetime)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	if !notAfter.After(now) {
		return nil, errors.New("devkey: the CA has expired")
	}
	u, err := url.Parse(AppURI(app))
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "drawbridge development device for " + app},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{u},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, device, caKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// serialNumber is 128 random bits, positive.
func serialNumber() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // never a short encoding
	return new(big.Int).SetBytes(b), nil
}

// Attestor makes development evidence on a simulator, an emulator or in
// CI, where no platform attestation exists: it is the client side of this
// package, for the Go client and for tests.
type Attestor struct {
	// Device is the device key (ECDSA P-256), certified by Chain[0].
	Device crypto.Signer
	// Chain is the device certificate chain, DER, device certificate
	// first.
	Chain [][]byte
}

// NewAttestor generates a device key and has the CA certify it for app
// (see IssueDevice): what a test or a CI job needs in one call.
func NewAttestor(ca *x509.Certificate, caKey crypto.Signer, app string, now time.Time, lifetime time.Duration) (*Attestor, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := IssueDevice(ca, caKey, &key.PublicKey, app, now, lifetime)
	if err != nil {
		return nil, err
	}
	return &Attestor{Device: key, Chain: [][]byte{cert.Raw}}, nil
}

// Attest signs clientDataHash (32 bytes, SHA-256 of the client data) with
// the device key, ECDSA P-256 over SHA-256 of it, and returns the
// evidence to send.
func (a Attestor) Attest(clientDataHash []byte) (Evidence, error) {
	if len(clientDataHash) != sha256.Size {
		return Evidence{}, fmt.Errorf("devkey: client data hash is %d bytes, want %d", len(clientDataHash), sha256.Size)
	}
	if a.Device == nil || len(a.Chain) == 0 {
		return Evidence{}, errors.New("devkey: an Attestor needs a device key and its certificate")
	}
	digest := sha256.Sum256(clientDataHash)
	sig, err := a.Device.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return Evidence{}, err
	}
	chain := make([][]byte, len(a.Chain))
	for i, c := range a.Chain {
		chain[i] = append([]byte(nil), c...)
	}
	return Evidence{Chain: chain, Signature: sig}, nil
}
