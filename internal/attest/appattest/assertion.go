package appattest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// AssertionExpect is what the server knows before it reads an assertion:
// the key stored from the attestation and the counter stored from the last
// accepted assertion.
type AssertionExpect struct {
	// TeamID and BundleID name the app; the RP ID hash must be
	// SHA-256(TeamID + "." + BundleID). Both are required.
	TeamID   string
	BundleID string
	// ClientData is the data the app asserted (generateAssertion's
	// clientDataHash is its SHA-256). Required. It must carry the server's
	// challenge; checking that challenge is the caller's part (assertion
	// step 6), done on the same bytes after this verifier accepts them.
	ClientData []byte
	// PublicKey is the attested key, PKIX DER, as the attestation's
	// Facts.PublicKey. Required; it must be an ECDSA P-256 key.
	PublicKey []byte
	// PreviousCounter is the counter stored for this key: 0 after the
	// attestation, then the Facts.Counter of the last accepted assertion.
	// The new counter must be greater. The caller stores the new counter
	// atomically (compare-and-swap on the previous one), or two concurrent
	// replays of one assertion could both pass.
	PreviousCounter uint64
}

// VerifyAssertion verifies an App Attest assertion, following Apple's
// "Validating apps that connect to your server", section "Verify the
// assertion", steps 1-5. A valid result's Facts hold Platform, AppID,
// KeyID and PublicKey of the key, and Counter: the new counter to store.
//
// Assertions carry no certificate and no time: nothing here expires.
func VerifyAssertion(a []byte, exp AssertionExpect) attest.Result {
	var r attest.Result
	r.Facts.Platform = "apple"
	pub, err := x509.ParsePKIXPublicKey(exp.PublicKey)
	point := p256Bytes(pub)
	if err != nil || point == nil || exp.TeamID == "" || exp.BundleID == "" || len(exp.ClientData) == 0 {
		r.Fail(ReasonInvalidExpectation)
		return r.Finish()
	}
	if len(a) > MaxAssertionSize {
		r.Fail(ReasonTooLarge)
		return r.Finish()
	}
	var obj assertionObject
	if err := dec.Unmarshal(a, &obj); err != nil || len(obj.Signature) == 0 {
		r.Fail(ReasonMalformed)
		return r.Finish()
	}
	ad, err := parseAuthData(obj.AuthenticatorData, false)
	if err != nil {
		r.Fail(ReasonMalformed)
		return r.Finish()
	}
	keyID := sha256.Sum256(point)
	r.Facts.KeyID = base64.StdEncoding.EncodeToString(keyID[:])
	r.Facts.PublicKey = exp.PublicKey
	r.Facts.Counter = uint64(ad.counter)
	appID := exp.TeamID + "." + exp.BundleID
	r.Facts.AppID = appID

	// Steps 1-3: nonce = SHA-256(authenticatorData ‖ SHA-256(clientData)),
	// signed with ECDSA P-256 / SHA-256; the message signed is the nonce, so
	// the digest verified is SHA-256(nonce).
	clientDataHash := sha256.Sum256(exp.ClientData)
	h := sha256.New()
	h.Write(obj.AuthenticatorData)
	h.Write(clientDataHash[:])
	digest := sha256.Sum256(h.Sum(nil))
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], obj.Signature) {
		r.Fail(ReasonBadSignature)
	}

	// Step 4: the RP ID hash is SHA-256 of the App ID.
	rpID := sha256.Sum256([]byte(appID))
	if subtle.ConstantTimeCompare(rpID[:], ad.rpIDHash) != 1 {
		r.Fail(ReasonRPIDMismatch)
	}

	// Step 5: the counter went up since the last accepted assertion.
	if uint64(ad.counter) <= exp.PreviousCounter {
		r.Fail(ReasonCounterNotIncreased)
	}
	return r.Finish()
}
