package appattest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// Environments an attested key can come from, as the AAGUID tells (step 8).
const (
	Production  = "production"
	Development = "development"
)

// The AAGUIDs of the two environments (step 8).
var (
	aaguidProduction  = []byte("appattest\x00\x00\x00\x00\x00\x00\x00")
	aaguidDevelopment = []byte("appattestdevelop")
)

// Expect is what the server knows before it reads an attestation.
type Expect struct {
	// TeamID and BundleID name the app; the RP ID hash must be
	// SHA-256(TeamID + "." + BundleID). Both are required.
	TeamID   string
	BundleID string
	// Environments lists the environments accepted. If empty, only
	// Production is: development keys are created by apps built with the
	// development entitlement and are not vouched for by the App Store.
	Environments []string
	// ClientDataHash is exactly the bytes the app passed to attestKey as
	// clientDataHash. Apple's guide says SHA-256 of the server's challenge,
	// but any bytes work and some apps pass the raw challenge (Apple's own
	// samples do), so no length is imposed. Required: it is what binds the
	// attestation to the server's one-time challenge.
	ClientDataHash []byte
	// KeyID is the key identifier the app sent with the attestation (the
	// base64-decoded keyId of generateKey). If nil, it is not compared; the
	// credential ID in authData is compared to the certified key either way.
	KeyID []byte
	// Roots anchors the x5c chain. If nil, the embedded Apple App
	// Attestation Root CA is used. Tests use their own.
	Roots *x509.CertPool
	// ReceiptRoots anchors the receipt's CMS chain. If nil, the embedded
	// Apple Root CA - G3 is used.
	ReceiptRoots *x509.CertPool
}

// validate reports whether the expectation can be used; it changes nothing.
func (e Expect) validate(at time.Time) bool {
	if e.TeamID == "" || e.BundleID == "" || len(e.ClientDataHash) == 0 || at.IsZero() {
		return false
	}
	for _, env := range e.Environments {
		if env != Production && env != Development {
			return false
		}
	}
	return true
}

func (e Expect) allows(env string) bool {
	if len(e.Environments) == 0 {
		return env == Production
	}
	for _, x := range e.Environments {
		if x == env {
			return true
		}
	}
	return false
}

// VerifyAttestation verifies an App Attest attestation object as of the
// time at, following Apple's "Validating apps that connect to your server",
// section "Verify the attestation", steps 1-9, and verifies its receipt.
//
// A valid result's Facts hold Platform "apple", AppID, Environment, KeyID
// (base64, standard padded), PublicKey (PKIX DER; store it for assertions),
// Counter 0 (store it as the first previous counter), NotAfter of the
// credential certificate, AppVersion when the authenticator data carries
// Apple's bundle version extension, and Receipt (store it to ask Apple for
// the fraud risk metric). The checks and their order are listed with the
// reason codes.
func VerifyAttestation(att []byte, exp Expect, at time.Time) attest.Result {
	var r attest.Result
	r.Facts.Platform = "apple"
	if !exp.validate(at) {
		r.Fail(ReasonInvalidExpectation)
		return r.Finish()
	}
	a, reason := parseAttestation(att)
	if reason != "" {
		r.Fail(reason)
		return r.Finish()
	}
	credCert, certKey, ad := a.certs[0], a.certKey, a.authData
	r.Facts.PublicKey = credCert.RawSubjectPublicKeyInfo
	keyID := sha256.Sum256(certKey)
	r.Facts.KeyID = base64.StdEncoding.EncodeToString(keyID[:])
	r.Facts.NotAfter = credCert.NotAfter
	r.Facts.Counter = uint64(ad.counter)
	r.Facts.AppVersion = ad.appVersion()
	r.Facts.Receipt = a.receipt

	// Step 1: the x5c chain leads to the App Attestation root at `at`.
	roots := exp.Roots
	if roots == nil {
		roots = appAttestRoots()
	}
	// x5c sits in the unsigned envelope: only the chain itself may be there.
	verifyChain(&r, credCert, a.certs[1:], roots, at, func(chain []*x509.Certificate) bool {
		return allOnChain(a.certs, chain)
	})

	// Steps 2-4: nonce = SHA-256(authData ‖ clientDataHash) is the octet
	// string in the credential certificate's extension 1.2.840.113635.100.8.2.
	h := sha256.New()
	h.Write(a.authDataRaw)
	h.Write(exp.ClientDataHash)
	nonce := h.Sum(nil)
	if !nonceMatches(credCert, nonce) {
		r.Fail(ReasonNonceMismatch)
	}

	// Step 5: SHA-256 of the certified key (65 bytes 0x04‖X‖Y) is the key
	// ID the app sent; step 9: it is also the credential ID in authData.
	if (exp.KeyID != nil && subtle.ConstantTimeCompare(keyID[:], exp.KeyID) != 1) ||
		subtle.ConstantTimeCompare(keyID[:], ad.credID) != 1 {
		r.Fail(ReasonKeyIDMismatch)
	}
	// Not one of Apple's numbered steps, but what a WebAuthn relying party
	// relies on: the credential public key in authData is the certified
	// key, so that what authData says about the credential is about it.
	if cose := ad.credKey.uncompressed(); cose == nil || !bytes.Equal(cose, certKey) {
		r.Fail(ReasonPublicKeyMismatch)
	}

	// Step 6: the RP ID hash is SHA-256 of the App ID.
	appID := exp.TeamID + "." + exp.BundleID
	r.Facts.AppID = appID
	rpID := sha256.Sum256([]byte(appID))
	if subtle.ConstantTimeCompare(rpID[:], ad.rpIDHash) != 1 {
		r.Fail(ReasonRPIDMismatch)
	}

	// Step 7: a new key has signed nothing yet.
	if ad.counter != 0 {
		r.Fail(ReasonCounterNotZero)
	}

	// Step 8: the AAGUID names the environment; the caller allows some.
	switch {
	case bytes.Equal(ad.aaguid, aaguidProduction):
		r.Facts.Environment = Production
	case bytes.Equal(ad.aaguid, aaguidDevelopment):
		r.Facts.Environment = Development
	default:
		r.Fail(ReasonBadAAGUID)
	}
	if r.Facts.Environment != "" && !exp.allows(r.Facts.Environment) {
		r.Fail(ReasonEnvironmentNotAllowed)
	}

	// Not in Apple's steps, which leave the receipt to the fraud-risk flow:
	// the receipt is signed by Apple and must describe this attestation,
	// or a stored receipt could be another app's or another key's.
	rroots := exp.ReceiptRoots
	if rroots == nil {
		rroots = receiptRoots()
	}
	if !receiptMatches(a.receipt, credCert.Raw, appID, exp.ClientDataHash, rroots, at) {
		r.Fail(ReasonReceiptInvalid)
	}
	return r.Finish()
}

// nonceMatches compares the nonce extension of the credential certificate
// with the computed nonce, in constant time.
func nonceMatches(credCert *x509.Certificate, nonce []byte) bool {
	for _, ext := range credCert.Extensions {
		if !ext.Id.Equal(oidNonce) {
			continue
		}
		got, err := parseNonceExtension(ext.Value)
		return err == nil && subtle.ConstantTimeCompare(got, nonce) == 1
	}
	return false
}

// receiptMatches verifies the attestation's receipt and that it is the
// ATTEST receipt of this credential certificate, app and client data.
func receiptMatches(der, credCert []byte, appID string, clientDataHash []byte, roots *x509.CertPool, at time.Time) bool {
	rc, res := VerifyReceipt(der, at, roots)
	return res.Valid &&
		rc.Type == ReceiptTypeAttest &&
		rc.AppID == appID &&
		bytes.Equal(rc.Certificate, credCert) &&
		subtle.ConstantTimeCompare(rc.ClientHash, clientDataHash) == 1
}
