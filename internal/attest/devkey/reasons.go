package devkey

// Reason codes, in the order Verify runs the checks. attest.Result.Reason
// is the first of them that failed; attest.Result.Reasons lists every
// failed check in this order.
//
// ReasonInvalidPolicy, ReasonTooLarge and ReasonMalformedChain end
// verification: nothing after them can be read. Every other check runs
// even when an earlier one failed, so that Reasons shows all that is
// wrong with a piece of evidence.
const (
	// ReasonInvalidPolicy: the Policy is unusable (see Policy.Validate),
	// the expected client data hash is not 32 bytes, or the verification
	// time is zero. A bug in the caller, never the client's fault.
	ReasonInvalidPolicy = "devkey.invalid_policy"
	// ReasonEnvironmentNotAllowed: the app's policy does not allow the
	// development environment, so development evidence is refused
	// whatever it says. It comes first, so that it is the Reason of such
	// a refusal; the evidence is still checked and its other failures
	// listed, for diagnosis.
	ReasonEnvironmentNotAllowed = "devkey.environment_not_allowed"
	// ReasonTooLarge: more than MaxChainLength certificates, a
	// certificate larger than MaxCertSize, or a signature larger than
	// MaxSignatureSize. Nothing is parsed.
	ReasonTooLarge = "devkey.too_large"
	// ReasonMalformedChain: no certificate, or one that crypto/x509
	// cannot parse.
	ReasonMalformedChain = "devkey.malformed_chain"
	// ReasonUntrustedCA: the device certificate does not chain to one of
	// the policy's development CAs (x509.Verify with only those roots),
	// whatever the time.
	ReasonUntrustedCA = "devkey.untrusted_ca"
	// ReasonCertExpired: a certificate of the chain (the device's or a
	// CA's) has expired at the verification time.
	ReasonCertExpired = "devkey.cert_expired"
	// ReasonCertNotYetValid: a certificate of the chain is not yet valid
	// at the verification time.
	ReasonCertNotYetValid = "devkey.cert_not_yet_valid"
	// ReasonBadDeviceCert: the device certificate is a CA, lacks the
	// digitalSignature key usage, or certifies a key that is not ECDSA
	// P-256.
	ReasonBadDeviceCert = "devkey.bad_device_cert"
	// ReasonWrongApp: the device certificate does not name exactly one
	// app (URI SAN drawbridge-dev:app/<app>), or names another app.
	ReasonWrongApp = "devkey.wrong_app"
	// ReasonBadSignature: the signature is not an ECDSA P-256 SHA-256
	// signature by the device key over the expected client data hash: a
	// signature of other client data, another key's, or garbage.
	ReasonBadSignature = "devkey.bad_signature"
)

// Reasons is every reason code Verify can return, in check order.
var Reasons = []string{
	ReasonInvalidPolicy,
	ReasonEnvironmentNotAllowed,
	ReasonTooLarge,
	ReasonMalformedChain,
	ReasonUntrustedCA,
	ReasonCertExpired,
	ReasonCertNotYetValid,
	ReasonBadDeviceCert,
	ReasonWrongApp,
	ReasonBadSignature,
}
