// Package appattesttest builds App Attest evidence for tests: attestation
// objects and assertions shaped as Apple's, under a test PKI generated at
// run time, since no real device can be driven from a test and Apple's
// roots sign nothing a test can make.
//
// It is for tests only (the service's, the gateway's, benchmarks). An
// Authority stands in for Apple: give its Roots and ReceiptRoots to
// appattest.Expect, and every object it builds verifies. The format
// package's own tests keep their finer-grained builders, which can break
// each check alone; this package only builds valid evidence, with the
// facts a caller chooses (team, bundle, environment, client data hash,
// key).
//
// Builders panic on failure, which only a bug can cause (as
// net/http/httptest does).
package appattesttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Environments, as appattest names them.
const (
	Production  = "production"
	Development = "development"
)

// OIDs Apple uses: the credential certificate's nonce extension and the
// receipt signer's mark.
var (
	oidNonce         = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}
	oidReceiptSigner = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 12, 15}
)

// The AAGUIDs of the two environments.
var aaguids = map[string][]byte{
	Production:  []byte("appattest\x00\x00\x00\x00\x00\x00\x00"),
	Development: []byte("appattestdevelop"),
}

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Authority is a test App Attest PKI: an App Attestation root and
// intermediate, and a receipt root, intermediate and signer. Its
// certificates are valid from 2000 to 2100.
type Authority struct {
	// Roots anchors attestation chains (appattest.Expect.Roots).
	Roots *x509.CertPool
	// ReceiptRoots anchors receipts (appattest.Expect.ReceiptRoots).
	ReceiptRoots *x509.CertPool

	root, inter, receiptRoot, receiptInter, receiptSigner ca
}

var serial atomic.Int64

// NewAuthority generates a fresh test PKI.
func NewAuthority() *Authority {
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Authority{Roots: x509.NewCertPool(), ReceiptRoots: x509.NewCertPool()}
	a.root = newCA("Test App Attestation Root CA", nil, from, until)
	a.inter = newCA("Test App Attestation CA 1", &a.root, from, until)
	a.receiptRoot = newCA("Test Root CA - G3", nil, from, until)
	a.receiptInter = newCA("Test Application Integration CA", &a.receiptRoot, from, until)
	a.receiptSigner = newLeaf("Test Fraud Receipt Signing", a.receiptInter, nil, from, until,
		[]pkix.Extension{{Id: oidReceiptSigner, Value: asn1.NullBytes}})
	a.Roots.AddCert(a.root.cert)
	a.ReceiptRoots.AddCert(a.receiptRoot.cert)
	return a
}

// Attestation describes the attestation to build.
type Attestation struct {
	// TeamID and BundleID name the app. Required.
	TeamID, BundleID string
	// Environment is Production or Development. Empty: Production.
	Environment string
	// ClientDataHash is what the app passed to attestKey. Required.
	ClientDataHash []byte
	// Key is the App Attest key. If nil, a fresh P-256 key.
	Key *ecdsa.PrivateKey
	// At is when the attestation is made: the credential certificate is
	// valid from a day before to 30 days after, the receipt for 90 days.
	// If zero, time.Now().
	At time.Time
}

// Attested is a built attestation.
type Attested struct {
	// Object is the attestation object (CBOR), as attestKey returns it.
	Object []byte
	// KeyID is the key identifier: SHA-256 of the key's uncompressed point.
	KeyID []byte
	// Key is the attested key; it signs assertions (Assertion).
	Key *ecdsa.PrivateKey
}

// KeyIDBase64 is the key id as iOS prints it (standard base64).
func (a *Attested) KeyIDBase64() string { return base64.StdEncoding.EncodeToString(a.KeyID) }

// ObjectBase64 is the attestation object in standard base64.
func (a *Attested) ObjectBase64() string { return base64.StdEncoding.EncodeToString(a.Object) }

// Attest builds an attestation object of a new or given key.
func (a *Authority) Attest(o Attestation) *Attested {
	if o.TeamID == "" || o.BundleID == "" || len(o.ClientDataHash) == 0 {
		panic("appattesttest: TeamID, BundleID and ClientDataHash are required")
	}
	env := o.Environment
	if env == "" {
		env = Production
	}
	aaguid, ok := aaguids[env]
	if !ok {
		panic("appattesttest: unknown environment " + env)
	}
	key := o.Key
	if key == nil {
		key = newKey()
	}
	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	point, err := key.PublicKey.Bytes()
	if err != nil {
		panic(err)
	}
	keyID := sum(point)
	appID := o.TeamID + "." + o.BundleID

	// Authenticator data: RP ID hash, flags (AT), counter 0, AAGUID, the
	// credential id and its COSE key.
	rp := sha256.Sum256([]byte(appID))
	ad := append(rp[:], 0x40)
	ad = binary.BigEndian.AppendUint32(ad, 0)
	ad = append(ad, aaguid...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(keyID)))
	ad = append(ad, keyID...)
	ad = append(ad, mustCBOR(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})...)

	nonce := sum(ad, o.ClientDataHash)
	leaf := newLeaf(hex.EncodeToString(keyID), a.inter, &key.PublicKey, at.Add(-24*time.Hour), at.AddDate(0, 0, 30),
		[]pkix.Extension{nonceExtension(nonce)})
	receipt := a.receipt(leaf.cert.Raw, appID, o.ClientDataHash, env, at)
	obj := mustCBOR(map[string]any{
		"fmt":      "apple-appattest",
		"attStmt":  map[string]any{"x5c": [][]byte{leaf.cert.Raw, a.inter.cert.Raw}, "receipt": receipt},
		"authData": ad,
	})
	return &Attested{Object: obj, KeyID: keyID, Key: key}
}

// Assertion signs an assertion the way the Secure Enclave does: ECDSA
// P-256 over SHA-256(nonce), nonce = SHA-256(authenticatorData ‖
// SHA-256(clientData)), the authenticator data naming the app and the
// counter.
func Assertion(key *ecdsa.PrivateKey, teamID, bundleID string, counter uint32, clientData []byte) []byte {
	rp := sha256.Sum256([]byte(teamID + "." + bundleID))
	ad := binary.BigEndian.AppendUint32(append(rp[:], 0), counter)
	nonce := sum(ad, sum(clientData))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum(nonce))
	if err != nil {
		panic(err)
	}
	return mustCBOR(map[string]any{"signature": sig, "authenticatorData": ad})
}

// receipt signs an ATTEST receipt of the credential certificate as Apple
// does: CMS SignedData, one signer without signed attributes, the chain in
// the certificate set.
func (a *Authority) receipt(cert []byte, appID string, clientHash []byte, env string, at time.Time) []byte {
	renv := "production"
	if env == Development {
		renv = "sandbox"
	}
	fields := []struct {
		typ int
		v   []byte
	}{
		{2, []byte(appID)}, {3, cert}, {4, clientHash}, {5, []byte("dGVzdCB0b2tlbg==")},
		{6, []byte("ATTEST")}, {7, []byte(renv)},
		{12, []byte(at.Add(-time.Minute).UTC().Format(time.RFC3339))},
		{21, []byte(at.AddDate(0, 0, 90).UTC().Format(time.RFC3339))},
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, f := range fields {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(f.typ))
				b.AddASN1Int64(1)
				b.AddASN1OctetString(f.v)
			})
		}
	})
	sd, err := pkcs7.NewSignedData(b.BytesOrPanic())
	if err != nil {
		panic(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	sd.SetEncryptionAlgorithm(pkcs7.OIDDigestAlgorithmECDSASHA256)
	if err := sd.SignWithoutAttr(a.receiptSigner.cert, a.receiptSigner.key, pkcs7.SignerInfoConfig{}); err != nil {
		panic(err)
	}
	sd.AddCertificate(a.receiptInter.cert)
	sd.AddCertificate(a.receiptRoot.cert)
	out, err := sd.Finish()
	if err != nil {
		panic(err)
	}
	return out
}

// nonceExtension encodes SEQUENCE { [1] EXPLICIT OCTET STRING nonce }.
func nonceExtension(nonce []byte) pkix.Extension {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(nonce)
		})
	})
	return pkix.Extension{Id: oidNonce, Value: b.BytesOrPanic()}
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// newCA makes a CA certificate, self-signed when parent is nil.
func newCA(name string, parent *ca, from, until time.Time) ca {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Test"}},
		NotBefore:             from,
		NotAfter:              until,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	return ca{cert: createCert(tmpl, issuer, &key.PublicKey, signer), key: key}
}

// newLeaf makes an end-entity certificate for pub (a fresh key when nil).
func newLeaf(name string, issuer ca, pub *ecdsa.PublicKey, from, until time.Time, exts []pkix.Extension) ca {
	var key *ecdsa.PrivateKey
	if pub == nil {
		key = newKey()
		pub = &key.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(serial.Add(1)),
		Subject:         pkix.Name{CommonName: name, OrganizationalUnit: []string{"AAA Certification"}},
		NotBefore:       from,
		NotAfter:        until,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: exts,
	}
	return ca{cert: createCert(tmpl, issuer.cert, pub, issuer.key), key: key}
}

func createCert(tmpl, issuer *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func mustCBOR(v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sum(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
