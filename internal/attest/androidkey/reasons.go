package androidkey

// Reason codes, in the order Verify runs the checks. attest.Result.Reason is
// the first of them that failed; attest.Result.Reasons lists every failed
// check in this order. Checks that cannot run because an earlier step failed
// (nothing to check once the chain does not parse, no policy checks without
// a KeyDescription) are skipped and not listed.
const (
	// ReasonInvalidPolicy: the Policy is unusable (see Policy.Validate).
	// Nothing else is checked.
	ReasonInvalidPolicy = "androidkey.invalid_policy"
	// ReasonTooLarge: more than MaxChainLength certificates, or one larger
	// than MaxCertSize. Nothing is parsed.
	ReasonTooLarge = "androidkey.too_large"
	// ReasonMalformedChain: fewer than two certificates, or one that
	// crypto/x509 cannot parse. Nothing else is checked.
	ReasonMalformedChain = "androidkey.malformed_chain"
	// ReasonBadSignatureChain: a certificate's signature does not verify
	// with the next certificate's public key, the top certificate's
	// self-signature does not verify, a signature algorithm is not on the
	// allow-list (no SHA-1, no MD5), or a signing key is too weak (RSA
	// under 2048 bits, EC curves other than P-256, P-384 and P-521).
	ReasonBadSignatureChain = "androidkey.bad_signature_chain"
	// ReasonConstraintViolation: an issuing certificate says it is not a CA,
	// has a key usage without certSign, or its path length limit is
	// exceeded; a certificate carries a critical extension crypto/x509 does
	// not handle; or a certificate other than the leaf carries a
	// KeyDescription.
	ReasonConstraintViolation = "androidkey.constraint_violation"
	// ReasonCertExpired: a certificate's notAfter is before the
	// verification time (the leaf's by more than the leaf skew).
	ReasonCertExpired = "androidkey.cert_expired"
	// ReasonCertNotYetValid: a certificate's notBefore is after the
	// verification time (the leaf's by more than the leaf skew).
	ReasonCertNotYetValid = "androidkey.cert_not_yet_valid"
	// ReasonUntrustedRoot: the top certificate's public key is none of the
	// trusted root keys.
	ReasonUntrustedRoot = "androidkey.untrusted_root"
	// ReasonRevoked: an intermediate or root serial is in the status list
	// (REVOKED, SUSPENDED or any other status).
	ReasonRevoked = "androidkey.revoked"
	// ReasonNoKeyDescription: the leaf has no KeyDescription extension.
	ReasonNoKeyDescription = "androidkey.no_key_description"
	// ReasonMalformedKeyDescription: the KeyDescription does not parse.
	// No policy check runs.
	ReasonMalformedKeyDescription = "androidkey.malformed_key_description"
	// ReasonChallengeMismatch: attestationChallenge is not the expected
	// challenge (or the expected challenge is empty).
	ReasonChallengeMismatch = "androidkey.challenge_mismatch"
	// ReasonSoftwareSecurityLevel: attestationSecurityLevel or
	// keyMintSecurityLevel is not TrustedEnvironment or StrongBox, and the
	// policy does not allow software.
	ReasonSoftwareSecurityLevel = "androidkey.software_security_level"
	// ReasonUnlockedBootloader: no RootOfTrust, or deviceLocked is false,
	// and the policy does not allow unlocked devices.
	ReasonUnlockedBootloader = "androidkey.unlocked_bootloader"
	// ReasonUnverifiedBoot: no RootOfTrust, or verifiedBootState is not
	// Verified (the policy may allow SelfSigned and Unverified; Failed and
	// unknown states are always refused).
	ReasonUnverifiedBoot = "androidkey.unverified_boot"
	// ReasonPatchLevelTooOld: an OS, vendor or boot patch level the policy
	// asks for is older than its minimum, missing or not a date.
	ReasonPatchLevelTooOld = "androidkey.patch_level_too_old"
	// ReasonKeyMismatch: the authorization list's algorithm, key size, EC
	// curve or RSA exponent does not describe the leaf's public key.
	ReasonKeyMismatch = "androidkey.key_mismatch"
	// ReasonPackageNotAllowed: no package in attestationApplicationId is
	// one of the policy's apps (or there is no attestationApplicationId).
	ReasonPackageNotAllowed = "androidkey.package_not_allowed"
	// ReasonSignatureDigestNotAllowed: the app's signing-certificate
	// digests are empty or not all named by the matching app policy.
	ReasonSignatureDigestNotAllowed = "androidkey.signature_digest_not_allowed"
	// ReasonVersionTooOld: the package's version code is below the app
	// policy's minimum.
	ReasonVersionTooOld = "androidkey.version_too_old"
)

// Reasons is every reason code Verify can return, in check order.
var Reasons = []string{
	ReasonInvalidPolicy,
	ReasonTooLarge,
	ReasonMalformedChain,
	ReasonBadSignatureChain,
	ReasonConstraintViolation,
	ReasonCertExpired,
	ReasonCertNotYetValid,
	ReasonUntrustedRoot,
	ReasonRevoked,
	ReasonNoKeyDescription,
	ReasonMalformedKeyDescription,
	ReasonChallengeMismatch,
	ReasonSoftwareSecurityLevel,
	ReasonUnlockedBootloader,
	ReasonUnverifiedBoot,
	ReasonPatchLevelTooOld,
	ReasonKeyMismatch,
	ReasonPackageNotAllowed,
	ReasonSignatureDigestNotAllowed,
	ReasonVersionTooOld,
}
