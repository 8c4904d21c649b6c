package appattest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Synthetic App Attest objects under a test PKI, built at test time, so that
// every check can be driven to fail on its own. The shapes copy Apple's: a
// leaf with the nonce extension under an intermediate under a root, a CMS
// receipt without signed attributes under its own root, CBOR maps with
// text keys.

// synthTime is "now" for synthetic objects.
var synthTime = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	synthTeam   = "ABCDE12345"
	synthBundle = "com.example.app"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

type testPKI struct {
	root, inter         ca // App Attest
	receiptRoot, rInter ca // receipts
	receiptSigner       ca
	roots, receiptRoots *x509.CertPool
}

var (
	pkiOnce   sync.Once
	sharedPKI *testPKI
)

// pki returns the test PKI, made once per test binary.
func pki() *testPKI {
	pkiOnce.Do(func() {
		p := &testPKI{}
		from, until := synthTime.AddDate(-5, 0, 0), synthTime.AddDate(10, 0, 0)
		p.root = newCA("Test App Attestation Root CA", nil, from, until)
		p.inter = newCA("Test App Attestation CA 1", &p.root, from, until)
		p.receiptRoot = newCA("Test Root CA - G3", nil, from, until)
		p.rInter = newCA("Test Application Integration CA", &p.receiptRoot, from, until)
		p.receiptSigner = newLeaf("Test Fraud Receipt Signing", p.rInter, nil, from, until, receiptSignerExt)
		p.roots, p.receiptRoots = x509.NewCertPool(), x509.NewCertPool()
		p.roots.AddCert(p.root.cert)
		p.receiptRoots.AddCert(p.receiptRoot.cert)
		sharedPKI = p
	})
	return sharedPKI
}

func newKey() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) }

func p384Key() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) }

// must stops a builder on an error, which only a bug in the test can cause.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(serial.Add(1)) }

// newCA makes a CA certificate, self-signed when parent is nil.
func newCA(name string, parent *ca, from, until time.Time) ca {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
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
	return ca{cert: mustCert(tmpl, issuer, &key.PublicKey, signer), key: key}
}

// newLeaf makes an end-entity certificate for pub (a fresh key when nil).
func newLeaf(name string, issuer ca, pub any, from, until time.Time, exts []pkix.Extension) ca {
	var key *ecdsa.PrivateKey
	if pub == nil {
		key = newKey()
		pub = &key.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber:    nextSerial(),
		Subject:         pkix.Name{CommonName: name, OrganizationalUnit: []string{"AAA Certification"}},
		NotBefore:       from,
		NotAfter:        until,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: exts,
	}
	return ca{cert: mustCert(tmpl, issuer.cert, pub, issuer.key), key: key}
}

func mustCert(tmpl, issuer *x509.Certificate, pub any, key *ecdsa.PrivateKey) *x509.Certificate {
	return must(x509.ParseCertificate(must(x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, key))))
}

// receiptSignerExt marks a receipt signer, as Apple's are marked.
var receiptSignerExt = []pkix.Extension{{Id: oidReceiptSigner, Value: asn1.NullBytes}}

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

// attBuild is one synthetic attestation. newAttBuild fills in a valid one;
// a test changes fields, then calls bytes.
type attBuild struct {
	pki            *testPKI
	key            *ecdsa.PrivateKey // the attested key
	team, bundle   string
	clientDataHash []byte
	fmt            string
	flags          byte
	counter        uint32
	aaguid         []byte
	credID         []byte           // nil: SHA-256 of the key's point
	cose           map[int]any      // nil: the key as ES256 COSE_Key
	tail           []byte           // bytes after the COSE key
	nonce          []byte           // nil: computed from authData
	exts           []pkix.Extension // nil: the nonce extension
	leafPub        any              // nil: the attested key
	leafFrom       time.Time
	leafUntil      time.Time
	issuer         *ca // nil: the test intermediate
	x5cExtra       [][]byte
	receipt        *receiptBuild // nil: an ATTEST receipt of this attestation
	envelope       func(map[string]any)
}

func newAttBuild() *attBuild {
	return &attBuild{
		pki:            pki(),
		key:            newKey(),
		team:           synthTeam,
		bundle:         synthBundle,
		clientDataHash: []byte("server-challenge-0123456789"),
		fmt:            "apple-appattest",
		flags:          flagAttested,
		aaguid:         aaguidProduction,
		leafFrom:       synthTime.Add(-24 * time.Hour),
		leafUntil:      synthTime.Add(48 * time.Hour),
	}
}

func (b *attBuild) point() []byte {
	p, _ := b.key.PublicKey.Bytes()
	return p
}

func (b *attBuild) keyID() []byte { return sha256Sum(b.point()) }

// expect is the expectation under which the built object is valid.
func (b *attBuild) expect() Expect {
	return Expect{
		TeamID:         synthTeam,
		BundleID:       synthBundle,
		Environments:   []string{Production, Development},
		ClientDataHash: []byte("server-challenge-0123456789"),
		KeyID:          b.keyID(),
		Roots:          b.pki.roots,
		ReceiptRoots:   b.pki.receiptRoots,
	}
}

func (b *attBuild) authData() []byte {
	rp := sha256.Sum256([]byte(b.team + "." + b.bundle))
	out := append(rp[:], b.flags)
	out = binary.BigEndian.AppendUint32(out, b.counter)
	out = append(out, b.aaguid...)
	credID := b.credID
	if credID == nil {
		credID = b.keyID()
	}
	out = binary.BigEndian.AppendUint16(out, uint16(len(credID)))
	out = append(out, credID...)
	cose := b.cose
	if cose == nil {
		p := b.point()
		cose = map[int]any{1: 2, 3: -7, -1: 1, -2: p[1:33], -3: p[33:]}
	}
	out = append(out, mustCBOR(cose)...)
	return append(out, b.tail...)
}

// bytes builds the attestation object.
func (b *attBuild) bytes() []byte {
	ad := b.authData()
	nonce := b.nonce
	if nonce == nil {
		nonce = sha256Sum(ad, b.clientDataHash)
	}
	exts := b.exts
	if exts == nil {
		exts = []pkix.Extension{nonceExtension(nonce)}
	}
	var pub any = &b.key.PublicKey
	if b.leafPub != nil {
		pub = b.leafPub
	}
	issuer := b.pki.inter
	if b.issuer != nil {
		issuer = *b.issuer
	}
	leaf := newLeaf(hex.EncodeToString(b.keyID()), issuer, pub, b.leafFrom, b.leafUntil, exts)
	rb := b.receipt
	if rb == nil {
		rb = newReceiptBuild()
	}
	rb.defaults(leaf.cert.Raw, b.team+"."+b.bundle, b.clientDataHash)
	stmt := map[string]any{
		"x5c":     append([][]byte{leaf.cert.Raw, issuer.cert.Raw}, b.x5cExtra...),
		"receipt": rb.bytes(),
	}
	obj := map[string]any{"fmt": b.fmt, "attStmt": stmt, "authData": ad}
	if b.envelope != nil {
		b.envelope(obj)
	}
	return mustCBOR(obj)
}

func mustCBOR(v any) []byte { return must(cbor.Marshal(v)) }

// receiptBuild is one synthetic receipt. Fields maps a field type to its
// value; a nil value drops the field.
type receiptBuild struct {
	pki      *testPKI
	fields   map[int][]byte
	extra    [][2]any // extra raw entries {type int, value []byte}, duplicates allowed
	signer   ca
	chain    []*x509.Certificate // certificates after the signer's
	digest   asn1.ObjectIdentifier
	sigAlg   asn1.ObjectIdentifier
	signers  int
	withAttr bool
	// rawPayload, when set, is signed instead of the fields.
	rawPayload []byte
}

func newReceiptBuild() *receiptBuild {
	p := pki()
	return &receiptBuild{
		pki:     p,
		fields:  map[int][]byte{},
		signer:  p.receiptSigner,
		chain:   []*x509.Certificate{p.rInter.cert, p.receiptRoot.cert},
		digest:  pkcs7.OIDDigestAlgorithmSHA256,
		sigAlg:  pkcs7.OIDDigestAlgorithmECDSASHA256,
		signers: 1,
	}
}

// defaults fills the fields an ATTEST receipt of this certificate has,
// where the test did not set them.
func (r *receiptBuild) defaults(cert []byte, appID string, clientHash []byte) {
	set := func(typ int, v []byte) {
		if _, ok := r.fields[typ]; !ok {
			r.fields[typ] = v
		}
	}
	set(fieldAppID, []byte(appID))
	set(fieldCertificate, cert)
	set(fieldClientHash, clientHash)
	set(fieldToken, []byte("dGVzdCB0b2tlbg=="))
	set(fieldType, []byte(ReceiptTypeAttest))
	set(fieldEnvironment, []byte("production"))
	set(fieldCreationTime, []byte(synthTime.Add(-time.Minute).Format(time.RFC3339Nano)))
	set(fieldExpirationTime, []byte(synthTime.AddDate(0, 0, 90).Format(time.RFC3339Nano)))
}

func (r *receiptBuild) payload() []byte {
	if r.rawPayload != nil {
		return r.rawPayload
	}
	entry := func(b *cryptobyte.Builder, typ int, v []byte) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(typ))
			b.AddASN1Int64(1)
			b.AddASN1OctetString(v)
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, typ := range []int{2, 3, 4, 5, 6, 7, 12, 17, 19, 21} {
			if v := r.fields[typ]; v != nil {
				entry(b, typ, v)
			}
		}
		for _, e := range r.extra {
			entry(b, e[0].(int), e[1].([]byte))
		}
	})
	return b.BytesOrPanic()
}

// bytes signs the payload the way Apple does: CMS SignedData, one signer,
// no signed attributes, the chain in the certificate set.
func (r *receiptBuild) bytes() []byte {
	sd := must(pkcs7.NewSignedData(r.payload()))
	sd.SetDigestAlgorithm(r.digest)
	sd.SetEncryptionAlgorithm(r.sigAlg)
	for range r.signers {
		var err error
		if r.withAttr {
			err = sd.AddSigner(r.signer.cert, r.signer.key, pkcs7.SignerInfoConfig{})
		} else {
			err = sd.SignWithoutAttr(r.signer.cert, r.signer.key, pkcs7.SignerInfoConfig{})
		}
		if err != nil {
			panic(err)
		}
	}
	for _, c := range r.chain {
		sd.AddCertificate(c)
	}
	return must(sd.Finish())
}

// assertion signs an assertion with key the way the Secure Enclave does:
// ECDSA P-256 over SHA-256(nonce), nonce = SHA-256(authData ‖
// SHA-256(clientData)).
func assertion(key *ecdsa.PrivateKey, appID string, counter uint32, clientData []byte) []byte {
	rp := sha256.Sum256([]byte(appID))
	ad := binary.BigEndian.AppendUint32(append(rp[:], 0), counter)
	return signAssertion(key, ad, clientData, nil)
}

func signAssertion(key *ecdsa.PrivateKey, ad, clientData []byte, envelope func(map[string]any)) []byte {
	nonce := sha256Sum(ad, sha256Sum(clientData))
	sig := must(ecdsa.SignASN1(rand.Reader, key, sha256Sum(nonce)))
	obj := map[string]any{"signature": sig, "authenticatorData": ad}
	if envelope != nil {
		envelope(obj)
	}
	return mustCBOR(obj)
}

func pkixKey(pub any) []byte { return must(x509.MarshalPKIXPublicKey(pub)) }
