package appattest

// Reason codes, in the order the checks run. A Result's Reason is the first
// of these that failed; its Reasons list every failed check in this order.
// Each verifier runs the subset its evidence calls for:
//
//	VerifyAttestation: ReasonInvalidExpectation, ReasonTooLarge, ReasonMalformed,
//	  ReasonBadFormat, ReasonChainUntrusted, ReasonCertNotYetValid,
//	  ReasonCertExpired, ReasonNonceMismatch, ReasonKeyIDMismatch,
//	  ReasonPublicKeyMismatch, ReasonRPIDMismatch, ReasonCounterNotZero,
//	  ReasonBadAAGUID, ReasonEnvironmentNotAllowed, ReasonReceiptInvalid
//	VerifyAssertion: ReasonInvalidExpectation, ReasonTooLarge, ReasonMalformed,
//	  ReasonBadSignature, ReasonRPIDMismatch, ReasonCounterNotIncreased
//	VerifyReceipt: ReasonInvalidExpectation, ReasonTooLarge, ReasonMalformed,
//	  ReasonChainUntrusted, ReasonCertNotYetValid, ReasonCertExpired,
//	  ReasonBadSignature, ReasonReceiptExpired
//
// ReasonInvalidExpectation, ReasonTooLarge, ReasonMalformed and
// ReasonBadFormat end verification: nothing after them can be read. Every
// other check runs even when an earlier one failed, so that Reasons shows all
// that is wrong with a piece of evidence.
const (
	// ReasonInvalidExpectation: the caller's expectation is unusable (no
	// team or bundle ID, no client data, an unknown environment, a zero
	// verification time, a stored key that is not P-256). A bug in the
	// caller, never the client's fault.
	ReasonInvalidExpectation = "appattest.invalid_expectation"
	// ReasonTooLarge: the input exceeds its size limit and was not parsed.
	ReasonTooLarge = "appattest.too_large"
	// ReasonMalformed: the input is not well-formed CBOR, authenticator
	// data, X.509 or CMS of the expected shape.
	ReasonMalformed = "appattest.malformed"
	// ReasonBadFormat: the attestation's fmt is not "apple-appattest".
	ReasonBadFormat = "appattest.bad_format"
	// ReasonChainUntrusted: the certificates do not chain to the trusted
	// Apple root (App Attestation Root CA for attestations, Root CA - G3 for
	// receipts), whatever the time.
	ReasonChainUntrusted = "appattest.chain_untrusted"
	// ReasonCertNotYetValid: the verification time is before a
	// certificate's notBefore.
	ReasonCertNotYetValid = "appattest.cert_not_yet_valid"
	// ReasonCertExpired: the verification time is after a certificate's
	// notAfter.
	ReasonCertExpired = "appattest.cert_expired"
	// ReasonBadSignature: the assertion's or the receipt's signature does
	// not verify.
	ReasonBadSignature = "appattest.bad_signature"
	// ReasonNonceMismatch: the credential certificate's nonce is not
	// SHA-256(authData ‖ clientDataHash) (steps 2-4).
	ReasonNonceMismatch = "appattest.nonce_mismatch"
	// ReasonKeyIDMismatch: SHA-256 of the certified key is not the key ID
	// the app sent (step 5) or not the credential ID in authData (step 9).
	ReasonKeyIDMismatch = "appattest.key_id_mismatch"
	// ReasonPublicKeyMismatch: the COSE key in authData is not the
	// certified key.
	ReasonPublicKeyMismatch = "appattest.public_key_mismatch"
	// ReasonRPIDMismatch: the RP ID hash is not SHA-256("TEAMID.bundle.id")
	// (attestation step 6, assertion step 4).
	ReasonRPIDMismatch = "appattest.rp_id_mismatch"
	// ReasonCounterNotZero: a fresh attestation's counter is not 0 (step 7).
	ReasonCounterNotZero = "appattest.counter_not_zero"
	// ReasonCounterNotIncreased: the assertion's counter is not greater than
	// the stored one (assertion step 5): a replay or a cloned key.
	ReasonCounterNotIncreased = "appattest.counter_not_increased"
	// ReasonBadAAGUID: the AAGUID is neither "appattestdevelop" nor
	// "appattest" followed by seven zero bytes (step 8).
	ReasonBadAAGUID = "appattest.bad_aaguid"
	// ReasonEnvironmentNotAllowed: the AAGUID names an environment the
	// caller does not accept (step 8).
	ReasonEnvironmentNotAllowed = "appattest.environment_not_allowed"
	// ReasonReceiptInvalid: the attestation's receipt does not verify to
	// Apple Root CA - G3 or does not describe this attestation (type, app,
	// certificate, client data hash).
	ReasonReceiptInvalid = "appattest.receipt_invalid"
	// ReasonReceiptExpired: the verification time is after the receipt's
	// expiration time.
	ReasonReceiptExpired = "appattest.receipt_expired"
)

// Reasons is every reason code this package produces, in check order.
var Reasons = []string{
	ReasonInvalidExpectation,
	ReasonTooLarge,
	ReasonMalformed,
	ReasonBadFormat,
	ReasonChainUntrusted,
	ReasonCertNotYetValid,
	ReasonCertExpired,
	ReasonBadSignature,
	ReasonNonceMismatch,
	ReasonKeyIDMismatch,
	ReasonPublicKeyMismatch,
	ReasonRPIDMismatch,
	ReasonCounterNotZero,
	ReasonCounterNotIncreased,
	ReasonBadAAGUID,
	ReasonEnvironmentNotAllowed,
	ReasonReceiptInvalid,
	ReasonReceiptExpired,
}

var messages = map[string]string{
	ReasonInvalidExpectation:    "appattest: invalid expectation (caller error)",
	ReasonTooLarge:              "appattest: evidence too large",
	ReasonMalformed:             "appattest: malformed evidence",
	ReasonBadFormat:             "appattest: attestation format is not apple-appattest",
	ReasonChainUntrusted:        "appattest: certificate chain does not lead to the Apple root",
	ReasonCertNotYetValid:       "appattest: certificate not yet valid",
	ReasonCertExpired:           "appattest: certificate expired",
	ReasonBadSignature:          "appattest: signature does not verify",
	ReasonNonceMismatch:         "appattest: nonce does not match the challenge",
	ReasonKeyIDMismatch:         "appattest: key identifier mismatch",
	ReasonPublicKeyMismatch:     "appattest: credential public key differs from the certified key",
	ReasonRPIDMismatch:          "appattest: RP ID hash does not match the app ID",
	ReasonCounterNotZero:        "appattest: attestation counter is not zero",
	ReasonCounterNotIncreased:   "appattest: counter did not increase",
	ReasonBadAAGUID:             "appattest: unknown AAGUID",
	ReasonEnvironmentNotAllowed: "appattest: environment not allowed",
	ReasonReceiptInvalid:        "appattest: receipt invalid",
	ReasonReceiptExpired:        "appattest: receipt expired",
}

// Message returns the log message for a reason code, prefixed with the
// package name, e.g. "appattest: counter did not increase". It holds no
// detail from the evidence. Unknown codes get "appattest: unknown reason".
func Message(reason string) string {
	if m, ok := messages[reason]; ok {
		return m
	}
	return "appattest: unknown reason"
}
