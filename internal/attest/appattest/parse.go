package appattest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Size limits, checked before any parsing. Real objects are far smaller:
// attestations 5.2-5.9 KiB, assertions about 140 bytes, receipts 3.6-3.8 KiB.
const (
	MaxAttestationSize = 64 << 10
	MaxAssertionSize   = 4 << 10
	MaxReceiptSize     = 16 << 10

	// maxCerts bounds the x5c array; Apple sends the leaf and one
	// intermediate.
	maxCerts = 4
)

// dec is the one CBOR decoder. Apple's objects are small definite-length
// maps of text keys; anything else (indefinite lengths, tags, duplicate or
// unknown keys, keys matched case-insensitively, deep nesting) is refused.
var dec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   8,
		MaxArrayElements:  16,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err) // constant options: a programming error, caught by every test
	}
	return dm
}()

var errMalformed = errors.New("appattest: malformed")

// attestationObject is what DCAppAttestService.attestKey returns. attStmt
// stays raw until fmt has been checked: another format's statement has
// other keys and must be refused as bad_format, not malformed.
type attestationObject struct {
	Fmt      string          `cbor:"fmt"`
	AttStmt  cbor.RawMessage `cbor:"attStmt"`
	AuthData []byte          `cbor:"authData"`
}

type appleStatement struct {
	X5C     [][]byte `cbor:"x5c"`
	Receipt []byte   `cbor:"receipt"`
}

// assertionObject is what DCAppAttestService.generateAssertion returns.
type assertionObject struct {
	Signature         []byte `cbor:"signature"`
	AuthenticatorData []byte `cbor:"authenticatorData"`
}

// attestationParts is an attestation object as read, before any check of
// what it says.
type attestationParts struct {
	authDataRaw []byte
	authData    authData
	certs       []*x509.Certificate // x5c, the credential certificate first
	certKey     []byte              // the credential certificate's key, 0x04‖X‖Y
	receipt     []byte
}

// parseAttestation reads an attestation object, checking only its shape.
// It returns the reason (too_large, malformed, bad_format) when the object
// cannot be read as an App Attest attestation.
func parseAttestation(att []byte) (attestationParts, string) {
	var a attestationParts
	if len(att) > MaxAttestationSize {
		return a, ReasonTooLarge
	}
	var obj attestationObject
	if err := dec.Unmarshal(att, &obj); err != nil || obj.Fmt == "" || len(obj.AttStmt) == 0 {
		return a, ReasonMalformed
	}
	if obj.Fmt != "apple-appattest" {
		return a, ReasonBadFormat
	}
	var stmt appleStatement
	if err := dec.Unmarshal(obj.AttStmt, &stmt); err != nil ||
		len(stmt.X5C) == 0 || len(stmt.X5C) > maxCerts || len(stmt.Receipt) == 0 {
		return a, ReasonMalformed
	}
	a.certs = make([]*x509.Certificate, len(stmt.X5C))
	for i, der := range stmt.X5C {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return a, ReasonMalformed
		}
		a.certs[i] = c
	}
	a.certKey = p256Bytes(a.certs[0].PublicKey)
	ad, err := parseAuthData(obj.AuthData, true)
	if a.certKey == nil || err != nil {
		return a, ReasonMalformed
	}
	a.authDataRaw, a.authData, a.receipt = obj.AuthData, ad, stmt.Receipt
	return a, ""
}

// authData is WebAuthn authenticator data (WebAuthn §6.1) as App Attest
// uses it: rpIdHash(32) flags(1) signCount(4), then for an attestation the
// attested credential data aaguid(16) credIdLen(2) credId COSE_Key, then
// optional extensions.
type authData struct {
	rpIDHash []byte
	flags    byte
	counter  uint32

	aaguid     []byte
	credID     []byte
	credKey    coseKey
	extensions map[string]any
}

const (
	flagAttested   = 0x40 // AT: attested credential data included
	flagExtensions = 0x80 // ED: extension data included
	authDataMin    = 37
)

// coseKey is an EC2 COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1).
type coseKey struct {
	Kty int    `cbor:"1,keyasint"`
	Alg int    `cbor:"3,keyasint"`
	Crv int    `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint"`
}

// uncompressed returns 0x04‖X‖Y when the key is an ES256 P-256 key with
// 32-byte coordinates, nil otherwise.
func (k coseKey) uncompressed() []byte {
	const ktyEC2, algES256, crvP256 = 2, -7, 1
	if k.Kty != ktyEC2 || k.Alg != algES256 || k.Crv != crvP256 || len(k.X) != 32 || len(k.Y) != 32 {
		return nil
	}
	return append(append([]byte{0x04}, k.X...), k.Y...)
}

// parseAuthData reads authenticator data. With attested set it requires the
// attested credential data. Bytes after the COSE key are tolerated only as
// one CBOR map: the ED flag says so in WebAuthn, but Apple's 2026 sample
// carries such a map with ED clear. They are covered by the nonce like the
// rest of authData. Without attested set (assertions) anything after the
// 37-byte header is ignored: it is covered by the signature and carries
// nothing this package uses.
func parseAuthData(b []byte, attested bool) (authData, error) {
	var ad authData
	if len(b) < authDataMin {
		return ad, errMalformed
	}
	ad.rpIDHash = b[:32]
	ad.flags = b[32]
	ad.counter = binary.BigEndian.Uint32(b[33:37])
	if !attested {
		return ad, nil
	}
	if ad.flags&flagAttested == 0 {
		return ad, errMalformed
	}
	rest := b[authDataMin:]
	if len(rest) < 18 {
		return ad, errMalformed
	}
	ad.aaguid = rest[:16]
	n := int(binary.BigEndian.Uint16(rest[16:18]))
	rest = rest[18:]
	if n == 0 || n > len(rest) {
		return ad, errMalformed
	}
	ad.credID = rest[:n]
	rest, err := dec.UnmarshalFirst(rest[n:], &ad.credKey)
	if err != nil {
		return ad, errMalformed
	}
	if len(rest) == 0 {
		if ad.flags&flagExtensions != 0 {
			return ad, errMalformed
		}
		return ad, nil
	}
	if err := dec.Unmarshal(rest, &ad.extensions); err != nil {
		return ad, errMalformed
	}
	return ad, nil
}

// appVersion is the app's bundle version when the authenticator data
// carries Apple's "apple_bundle_version_01" extension (iOS 26 and later).
func (ad authData) appVersion() string {
	s, _ := ad.extensions["apple_bundle_version_01"].(string)
	return s
}

// oidNonce is the credential certificate extension that carries the nonce.
var oidNonce = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}

// parseNonceExtension reads the value of extension 1.2.840.113635.100.8.2:
// SEQUENCE { [1] EXPLICIT OCTET STRING } (step 4), strictly DER.
func parseNonceExtension(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var seq, tagged, nonce cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&tagged, cbasn1.Tag(1).Constructed().ContextSpecific()) || !seq.Empty() ||
		!tagged.ReadASN1(&nonce, cbasn1.OCTET_STRING) || !tagged.Empty() {
		return nil, errMalformed
	}
	return nonce, nil
}

// p256Bytes returns the uncompressed point of a P-256 ECDSA key, nil for
// any other key.
func p256Bytes(pub any) []byte {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil
	}
	b, err := k.Bytes()
	if err != nil {
		return nil
	}
	return b
}
