package androidkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Synthetic chains: a test root (EC P-256 or RSA-2048), an intermediate
// and a leaf carrying a KeyDescription encoded here with cryptobyte, to
// reach every check the real vectors cannot.

var (
	synthNow       = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	synthChallenge = []byte("synthetic-challenge-0123456789")
	synthPackage   = "com.example.wallet"
	synthDigest    = bytes.Repeat([]byte{0xd1}, 32)
)

type testPKI struct {
	ecKey    *ecdsa.PrivateKey // test root, EC
	rsaKey   *rsa.PrivateKey   // test root, RSA-2048
	interKey *ecdsa.PrivateKey
	leafKey  *ecdsa.PrivateKey
	otherKey *ecdsa.PrivateKey // signs what it should not
	rsaLeaf  *rsa.PrivateKey
	weakRSA  *rsa.PrivateKey // 1024 bits
}

var testPKIOnce = sync.OnceValue(func() *testPKI {
	ec := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	rsaKey := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	return &testPKI{
		ecKey: ec(), rsaKey: rsaKey(2048), interKey: ec(), leafKey: ec(), otherKey: ec(),
		rsaLeaf: rsaKey(2048), weakRSA: rsaKey(1024),
	}
})

func testRoots(tb testing.TB) *testPKI {
	tb.Helper()
	return testPKIOnce()
}

// kdParams describes a synthetic KeyDescription; defaultKD is valid under
// synthPolicy.
type kdParams struct {
	attVersion, kmVersion       int64
	attLevel, kmLevel           int64
	challenge                   []byte
	noRoT                       bool
	locked                      bool
	bootState                   int64
	osPatch, vendorPatch, bootP int64 // 0: omitted
	pkgs                        []PackageInfo
	digests                     [][]byte
	noAAI                       bool
	algorithm, keySize, curve   int64 // 0: omitted (curve: -1 omitted)
	rsaExp                      int64 // 0: omitted
	deviceInSoftware            bool  // device state in softwareEnforced
	extraHW                     func(*cryptobyte.Builder)
}

func defaultKD() kdParams {
	return kdParams{
		attVersion: 300, kmVersion: 300, attLevel: 1, kmLevel: 1,
		challenge: synthChallenge, locked: true, bootState: 0,
		osPatch: 202603, vendorPatch: 20260305, bootP: 20260305,
		pkgs:      []PackageInfo{{Name: synthPackage, Version: 7}},
		digests:   [][]byte{synthDigest},
		algorithm: 3, keySize: 256, curve: 1,
	}
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

func (k kdParams) der() []byte {
	device := func(b *cryptobyte.Builder) {
		if !k.noRoT {
			explicit(b, tagRootOfTrust, func(b *cryptobyte.Builder) {
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(bytes.Repeat([]byte{0xab}, 32))
					b.AddASN1Boolean(k.locked)
					b.AddASN1Enum(k.bootState)
					b.AddASN1OctetString(bytes.Repeat([]byte{0xcd}, 32))
				})
			})
		}
		explicitInt(b, tagOSVersion, 160000)
		if k.osPatch != 0 {
			explicitInt(b, tagOSPatchLevel, k.osPatch)
		}
		if k.vendorPatch != 0 {
			explicitInt(b, tagVendorPatchLevel, k.vendorPatch)
		}
		if k.bootP != 0 {
			explicitInt(b, tagBootPatchLevel, k.bootP)
		}
	}
	key := func(b *cryptobyte.Builder) {
		explicit(b, tagPurpose, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		})
		if k.algorithm != 0 {
			explicitInt(b, tagAlgorithm, k.algorithm)
		}
		if k.keySize != 0 {
			explicitInt(b, tagKeySize, k.keySize)
		}
		if k.curve >= 0 {
			explicitInt(b, tagECCurve, k.curve)
		}
		if k.rsaExp != 0 {
			explicitInt(b, tagRSAPublicExponent, k.rsaExp)
		}
		explicit(b, tagNoAuthRequired, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
		explicitInt(b, tagOrigin, 0)
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(k.attVersion)
		b.AddASN1Enum(k.attLevel)
		b.AddASN1Int64(k.kmVersion)
		b.AddASN1Enum(k.kmLevel)
		b.AddASN1OctetString(k.challenge)
		b.AddASN1OctetString(nil)
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // softwareEnforced
			explicitInt(b, tagCreationDateTime, synthNow.UnixMilli())
			if k.deviceInSoftware {
				key(b)
				device(b)
			}
			if !k.noAAI {
				explicit(b, tagAttestationApplicationID, func(b *cryptobyte.Builder) {
					b.AddASN1(casn1.OCTET_STRING, func(b *cryptobyte.Builder) {
						b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
								for _, p := range k.pkgs {
									b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
										b.AddASN1OctetString([]byte(p.Name))
										b.AddASN1Int64(p.Version)
									})
								}
							})
							b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
								for _, d := range k.digests {
									b.AddASN1OctetString(d)
								}
							})
						})
					})
				})
			}
		})
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // hardwareEnforced
			if !k.deviceInSoftware {
				key(b)
				device(b)
			}
			if k.extraHW != nil {
				k.extraHW(b)
			}
		})
	})
	return b.BytesOrPanic()
}

// chainOpts describes a synthetic chain; the zero value is a valid chain
// under synthPolicy at synthNow.
type chainOpts struct {
	rootKey    crypto.Signer // default: EC test root
	rootSigner crypto.Signer // default: rootKey (self-signed)
	interKey   crypto.Signer
	interSign  crypto.Signer // default: rootKey
	leafKey    crypto.Signer
	leafSigner crypto.Signer // default: interKey
	kd         []byte        // default: defaultKD().der()
	noKD       bool
	root       func(*x509.Certificate)
	inter      func(*x509.Certificate)
	leaf       func(*x509.Certificate)
}

func orSigner(s, def crypto.Signer) crypto.Signer {
	if s != nil {
		return s
	}
	return def
}

func buildChain(tb testing.TB, o chainOpts) [][]byte {
	tb.Helper()
	pki := testRoots(tb)
	rootKey := orSigner(o.rootKey, pki.ecKey)
	interKey := orSigner(o.interKey, pki.interKey)
	leafKey := orSigner(o.leafKey, pki.leafKey)

	root := &x509.Certificate{
		SerialNumber:          big.NewInt(0x1001),
		Subject:               pkix.Name{CommonName: "Test Attestation Root"},
		NotBefore:             synthNow.AddDate(-1, 0, 0),
		NotAfter:              synthNow.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	inter := &x509.Certificate{
		SerialNumber:          big.NewInt(0x2002),
		Subject:               pkix.Name{CommonName: "Test Attestation Intermediate", SerialNumber: "2002"},
		NotBefore:             synthNow.AddDate(0, 0, -14),
		NotAfter:              synthNow.AddDate(0, 0, 14),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Android Keystore Key"},
		NotBefore:    synthNow.Add(-time.Hour),
		NotAfter:     synthNow.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	kd := o.kd
	if kd == nil {
		kd = defaultKD().der()
	}
	if !o.noKD {
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: OIDKeyDescription, Value: kd})
	}
	for _, m := range []struct {
		f func(*x509.Certificate)
		c *x509.Certificate
	}{{o.root, root}, {o.inter, inter}, {o.leaf, leaf}} {
		if m.f != nil {
			m.f(m.c)
		}
	}
	create := func(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) []byte {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			tb.Fatalf("creating %q: %v", tmpl.Subject.CommonName, err)
		}
		return der
	}
	rootDER := create(root, root, rootKey.Public(), orSigner(o.rootSigner, rootKey))
	interDER := create(inter, root, interKey.Public(), orSigner(o.interSign, rootKey))
	leafDER := create(leaf, inter, leafKey.Public(), orSigner(o.leafSigner, interKey))
	return [][]byte{leafDER, interDER, rootDER}
}

// synthPolicy accepts the default synthetic chain at synthNow.
func synthPolicy(tb testing.TB) Policy {
	return Policy{
		Apps:         []App{{Package: synthPackage, SigningCertDigests: [][]byte{synthDigest}, MinVersionCode: 7}},
		TrustedRoots: []crypto.PublicKey{testRoots(tb).ecKey.Public(), testRoots(tb).rsaKey.Public()},
	}
}
