package appattest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Receipt types (field 6).
const (
	// ReceiptTypeAttest is the receipt that comes inside an attestation.
	ReceiptTypeAttest = "ATTEST"
	// ReceiptTypeReceipt is a receipt Apple returns in exchange for an
	// earlier one; it carries the risk metric.
	ReceiptTypeReceipt = "RECEIPT"
)

// Receipt is an App Attest receipt: a CMS SignedData object whose content
// is an ASN.1 SET OF SEQUENCE { type INTEGER, version INTEGER, value OCTET
// STRING }, as Apple's "Assessing fraud risk" describes. Fields the receipt
// does not carry stay zero.
type Receipt struct {
	// Raw is the receipt as received (BER or DER).
	Raw []byte
	// Type is ReceiptTypeAttest or ReceiptTypeReceipt (field 6).
	Type string
	// AppID is "TEAMID.bundle.id" (field 2).
	AppID string
	// Certificate is the attested key's credential certificate, DER
	// (field 3); PublicKey is its key, PKIX DER, and KeyID the base64 of
	// SHA-256 of the key's uncompressed point, as the app names the key.
	Certificate []byte
	PublicKey   []byte
	KeyID       string
	// ClientHash is the clientDataHash of the attestation (field 4).
	ClientHash []byte
	// Token is Apple's opaque token (field 5).
	Token []byte
	// Environment is "production" or "sandbox" (field 7, not in Apple's
	// documentation; sandbox receipts come with development keys).
	Environment string
	// CreationTime is when Apple made the receipt (field 12).
	CreationTime time.Time
	// RiskMetric approximates how many keys the device attested for this
	// app in the past 30 days (field 17); only RECEIPT receipts carry it.
	RiskMetric int
	// NotBefore is when Apple will first exchange this receipt for a new
	// one (field 19); only RECEIPT receipts carry it.
	NotBefore time.Time
	// ExpirationTime is when the receipt stops being valid (field 21).
	ExpirationTime time.Time
}

// Receipt field types ("Assessing fraud risk", table of receipt fields).
const (
	fieldAppID          = 2
	fieldCertificate    = 3
	fieldClientHash     = 4
	fieldToken          = 5
	fieldType           = 6
	fieldEnvironment    = 7
	fieldCreationTime   = 12
	fieldRiskMetric     = 17
	fieldNotBefore      = 19
	fieldExpirationTime = 21
)

// VerifyReceipt verifies an App Attest receipt as of the time at: its CMS
// signature by a certificate that chains to roots (if nil, the embedded
// Apple Root CA - G3), every certificate valid at `at`, and `at` not after
// the receipt's expiration time. It returns the receipt's fields as far as
// they could be read; trust them only when the result is valid.
//
// The caller compares the fields with what it stored: the app ID, the
// certificate or key of the attestation, and for a refreshed receipt its
// token.
func VerifyReceipt(der []byte, at time.Time, roots *x509.CertPool) (Receipt, attest.Result) {
	var r attest.Result
	r.Facts.Platform = "apple"
	rc := Receipt{Raw: der}
	if at.IsZero() {
		r.Fail(ReasonInvalidExpectation)
		return rc, r.Finish()
	}
	p7, signer, reason := parseReceipt(der, &rc)
	if reason != "" {
		r.Fail(reason)
		return rc, r.Finish()
	}
	r.Facts.AppID = rc.AppID
	r.Facts.PublicKey = rc.PublicKey
	r.Facts.KeyID = rc.KeyID
	switch rc.Environment {
	case "production":
		r.Facts.Environment = Production
	case "sandbox":
		r.Facts.Environment = Development
	}

	if roots == nil {
		roots = receiptRoots()
	}
	var others []*x509.Certificate
	for _, c := range p7.Certificates {
		if c != signer {
			others = append(others, c)
		}
	}
	verifyChain(&r, signer, others, roots, at, func(chain []*x509.Certificate) bool {
		// Apple Root CA - G3 anchors many Apple CAs, some of which certify
		// keys that developers hold; only a signer marked as Apple's
		// receipt signer may sign receipts. And the CMS certificate set is
		// not signed: Apple sends exactly the chain (signer, Apple
		// Application Integration CA 5 - G1, Apple Root CA - G3), so
		// anything else there, even a root copy that differs from the
		// trusted one, is refused rather than carried along unverified.
		return hasExtension(signer, oidReceiptSigner) && allOnChain(p7.Certificates, chain)
	})
	// The chain was checked above with the time split out; here only the
	// content digest and the signature (a nil trust store skips the chain).
	if p7.VerifyWithChainAtTime(nil, at) != nil {
		r.Fail(ReasonBadSignature)
	}
	if at.After(rc.ExpirationTime) {
		r.Fail(ReasonReceiptExpired)
	}
	return rc, r.Finish()
}

// parseReceipt reads a receipt into rc without verifying it, and returns
// the CMS object and its signer's certificate, or the reason (too_large,
// malformed) it cannot be read.
func parseReceipt(der []byte, rc *Receipt) (*pkcs7.PKCS7, *x509.Certificate, string) {
	if len(der) > MaxReceiptSize {
		return nil, nil, ReasonTooLarge
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || !signerAllowed(p7) {
		return nil, nil, ReasonMalformed
	}
	signer := p7.GetOnlySigner()
	if signer == nil || parseReceiptPayload(p7.Content, rc) != nil {
		return nil, nil, ReasonMalformed
	}
	return p7, signer, ""
}

// parseReceiptPayload reads the signed content into rc. Unknown field
// types are skipped (Apple adds fields); a repeated field, a missing
// required one or a value of the wrong shape is an error.
func parseReceiptPayload(content []byte, rc *Receipt) error {
	in := cryptobyte.String(content)
	var set cryptobyte.String
	if !in.ReadASN1(&set, cbasn1.SET) || !in.Empty() {
		return errMalformed
	}
	seen := map[int]bool{}
	for !set.Empty() {
		var entry, value cryptobyte.String
		var typ, version int
		if !set.ReadASN1(&entry, cbasn1.SEQUENCE) ||
			!entry.ReadASN1Integer(&typ) || !entry.ReadASN1Integer(&version) ||
			!entry.ReadASN1(&value, cbasn1.OCTET_STRING) || !entry.Empty() {
			return errMalformed
		}
		if seen[typ] {
			return errMalformed
		}
		seen[typ] = true
		if err := rc.setField(typ, value); err != nil {
			return err
		}
	}
	for _, f := range []int{fieldAppID, fieldCertificate, fieldClientHash, fieldToken, fieldType, fieldCreationTime, fieldExpirationTime} {
		if !seen[f] {
			return errMalformed
		}
	}
	switch rc.Type {
	case ReceiptTypeAttest:
	case ReceiptTypeReceipt:
		if !seen[fieldRiskMetric] {
			return errMalformed
		}
	default:
		return errMalformed
	}
	return nil
}

func (rc *Receipt) setField(typ int, v []byte) error {
	var err error
	switch typ {
	case fieldAppID:
		rc.AppID = string(v)
	case fieldCertificate:
		rc.Certificate = v
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(v); err != nil {
			return errMalformed
		}
		point := p256Bytes(c.PublicKey)
		if point == nil {
			return errMalformed
		}
		id := sha256.Sum256(point)
		rc.PublicKey = c.RawSubjectPublicKeyInfo
		rc.KeyID = base64.StdEncoding.EncodeToString(id[:])
	case fieldClientHash:
		rc.ClientHash = v
	case fieldToken:
		rc.Token = v
	case fieldType:
		rc.Type = string(v)
	case fieldEnvironment:
		rc.Environment = string(v)
	case fieldCreationTime:
		rc.CreationTime, err = time.Parse(time.RFC3339, string(v))
	case fieldRiskMetric:
		rc.RiskMetric, err = strconv.Atoi(string(v))
		if err == nil && rc.RiskMetric < 0 {
			err = errMalformed
		}
	case fieldNotBefore:
		rc.NotBefore, err = time.Parse(time.RFC3339, string(v))
	case fieldExpirationTime:
		rc.ExpirationTime, err = time.Parse(time.RFC3339, string(v))
	}
	if err != nil {
		return errMalformed
	}
	return nil
}

// oidReceiptSigner marks Apple's "Application Attestation Fraud Receipt
// Signing" certificates (an extension with a NULL value); every receipt
// signer from 2020 to 2026 in the vectors carries it.
var oidReceiptSigner = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 12, 15}

func hasExtension(c *x509.Certificate, id asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(id) })
}

// Signature algorithms allowed for the receipt's one signer, with the
// digest algorithm each must name. Apple signs with ECDSA P-256 / SHA-256.
var receiptAlgorithms = []struct{ sig, digest asn1.ObjectIdentifier }{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}, // ecdsa-with-SHA256, sha256
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}}, // ecdsa-with-SHA384, sha384
}

// signerAllowed pins what pkcs7 would otherwise take on trust: exactly one
// signer, of version 1, no CRLs and no unsigned attributes, and a signature
// algorithm from the allow-list with its own digest algorithm. Apple's
// SignerInfo has no signed attributes, so its digestAlgorithm is not
// covered by the signature; requiring it to agree with the signature
// algorithm leaves it no freedom.
func signerAllowed(p7 *pkcs7.PKCS7) bool {
	if len(p7.Signers) != 1 || len(p7.CRLs) != 0 {
		return false
	}
	s := p7.Signers[0]
	if s.Version != 1 || len(s.UnauthenticatedAttributes) != 0 || len(s.DigestEncryptionAlgorithm.Parameters.FullBytes) != 0 {
		return false
	}
	switch p := s.DigestAlgorithm.Parameters.FullBytes; {
	case len(p) == 0, bytes.Equal(p, asn1.NullBytes):
	default:
		return false
	}
	for _, a := range receiptAlgorithms {
		if s.DigestEncryptionAlgorithm.Algorithm.Equal(a.sig) {
			return s.DigestAlgorithm.Algorithm.Equal(a.digest)
		}
	}
	return false
}
