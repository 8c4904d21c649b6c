// Package androidkeytest builds Android key attestation chains for tests:
// a leaf whose KeyDescription extension says what the caller chooses
// (challenge, package, signing digests, security level, boot state),
// under an intermediate and a root generated at run time, since Google's
// roots sign nothing a test can make.
//
// It is for tests only (the service's, the gateway's, benchmarks). Give
// an Authority's TrustedRoots to androidkey.Policy.TrustedRoots and every
// chain it builds verifies as far as its KeyDescription allows. The format
// package's own tests keep their finer-grained builders, which can break
// each check alone.
//
// Builders panic on failure, which only a bug can cause (as
// net/http/httptest does).
package androidkeytest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
)

// Authorization list tags (KeyMint Tag.aidl, without the type bits).
const (
	tagPurpose                  = 1
	tagAlgorithm                = 2
	tagKeySize                  = 3
	tagECCurve                  = 10
	tagNoAuthRequired           = 503
	tagCreationDateTime         = 701
	tagOrigin                   = 702
	tagRootOfTrust              = 704
	tagOSVersion                = 705
	tagOSPatchLevel             = 706
	tagAttestationApplicationID = 709
)

// Authority is a test attestation root and intermediate, standing in for
// Google's hardware attestation roots. Its certificates are valid from
// 2000 to 2100.
type Authority struct {
	root, inter *x509.Certificate
	rootKey     *ecdsa.PrivateKey
	interKey    *ecdsa.PrivateKey
}

var serial atomic.Int64

// NewAuthority generates a fresh root and intermediate.
func NewAuthority() *Authority {
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Authority{rootKey: newKey(), interKey: newKey()}
	a.root = create(&x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "Test Key Attestation Root"},
		NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, &a.rootKey.PublicKey, a.rootKey)
	a.inter = create(&x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "Test Key Attestation Intermediate"},
		NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, a.root, &a.interKey.PublicKey, a.rootKey)
	return a
}

// TrustedRoots are the authority's root keys, for
// androidkey.Policy.TrustedRoots.
func (a *Authority) TrustedRoots() []crypto.PublicKey {
	return []crypto.PublicKey{&a.rootKey.PublicKey}
}

// Attestation describes the KeyDescription of the leaf to build.
type Attestation struct {
	// Challenge is the attestation challenge (the service's client data
	// hash). Required.
	Challenge []byte
	// Package and VersionCode name the app; SigningCertDigests are its
	// signing certificates' SHA-256 digests.
	Package            string
	VersionCode        int64
	SigningCertDigests [][]byte
	// SecurityLevel is the attestation and KeyMint security level. Its
	// zero value is Software, which a default policy refuses: tests of
	// valid evidence set androidkey.TrustedEnvironment or StrongBox.
	SecurityLevel androidkey.SecurityLevel
	// BootState is the verified boot state; zero is Verified.
	BootState androidkey.VerifiedBootState
	// Unlocked says the bootloader is unlocked; false is locked.
	Unlocked bool
	// OSPatchLevel is YYYYMM; zero omits it.
	OSPatchLevel int64
	// Key is the attested key (EC P-256). If nil, a fresh one.
	Key *ecdsa.PrivateKey
	// At is when the key is attested: the leaf is valid from an hour
	// before to a year after. If zero, time.Now().
	At time.Time
}

// Chain is a built attestation.
type Chain struct {
	// DER is the chain leaf first, as KeyStore.getCertificateChain
	// returns it.
	DER [][]byte
	// Key is the attested key.
	Key *ecdsa.PrivateKey
}

// Attest builds a chain whose leaf certifies the key with a
// KeyDescription as described.
func (a *Authority) Attest(o Attestation) *Chain {
	if len(o.Challenge) == 0 {
		panic("androidkeytest: Challenge is required")
	}
	key := o.Key
	if key == nil {
		key = newKey()
	}
	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	leaf := create(&x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Android Keystore Key"},
		NotBefore:    at.Add(-time.Hour),
		NotAfter:     at.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{
			{Id: androidkey.OIDKeyDescription, Value: o.keyDescription(at)},
		},
	}, a.inter, &key.PublicKey, a.interKey)
	return &Chain{DER: [][]byte{leaf.Raw, a.inter.Raw, a.root.Raw}, Key: key}
}

// keyDescription encodes the KeyDescription (attestation version 300):
// the key's and the device's authorizations in hardwareEnforced, or in
// softwareEnforced for a software attestation, and the application id
// in softwareEnforced where Keystore puts it.
func (o Attestation) keyDescription(at time.Time) []byte {
	level := int64(o.SecurityLevel)
	enforced := func(b *cryptobyte.Builder) {
		explicit(b, tagPurpose, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) { b.AddASN1Int64(2) }) // SIGN
		})
		explicitInt(b, tagAlgorithm, 3) // EC
		explicitInt(b, tagKeySize, 256)
		explicitInt(b, tagECCurve, 1) // P-256
		explicit(b, tagNoAuthRequired, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
		explicitInt(b, tagOrigin, 0) // generated
		explicit(b, tagRootOfTrust, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(bytes.Repeat([]byte{0xab}, 32))
				b.AddASN1Boolean(!o.Unlocked)
				b.AddASN1Enum(int64(o.BootState))
				b.AddASN1OctetString(bytes.Repeat([]byte{0xcd}, 32))
			})
		})
		explicitInt(b, tagOSVersion, 160000)
		if o.OSPatchLevel != 0 {
			explicitInt(b, tagOSPatchLevel, o.OSPatchLevel)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(300)
		b.AddASN1Enum(level)
		b.AddASN1Int64(300)
		b.AddASN1Enum(level)
		b.AddASN1OctetString(o.Challenge)
		b.AddASN1OctetString(nil)                               // uniqueId
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // softwareEnforced
			explicitInt(b, tagCreationDateTime, at.UnixMilli())
			if o.SecurityLevel == androidkey.Software {
				enforced(b)
			}
			explicit(b, tagAttestationApplicationID, func(b *cryptobyte.Builder) {
				b.AddASN1(casn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
							b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1OctetString([]byte(o.Package))
								b.AddASN1Int64(o.VersionCode)
							})
						})
						b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
							for _, d := range o.SigningCertDigests {
								b.AddASN1OctetString(d)
							}
						})
					})
				})
			})
		})
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // hardwareEnforced
			if o.SecurityLevel != androidkey.Software {
				enforced(b)
			}
		})
	})
	return b.BytesOrPanic()
}

// explicit adds [tag] EXPLICIT around what f writes. cryptobyte cannot
// write tag numbers above 30, so the wrapper is encoding/asn1's.
func explicit(b *cryptobyte.Builder, tag int, f func(*cryptobyte.Builder)) {
	var inner cryptobyte.Builder
	f(&inner)
	raw, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: inner.BytesOrPanic()})
	if err != nil {
		panic(err)
	}
	b.AddBytes(raw)
}

func explicitInt(b *cryptobyte.Builder, tag int, v int64) {
	explicit(b, tag, func(b *cryptobyte.Builder) { b.AddASN1Int64(v) })
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// create signs tmpl with signer under parent (self-signed when nil).
func create(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}
