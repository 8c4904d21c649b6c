package playintegrity

// Reason codes, in the order Verify runs the checks. attest.Result.Reason
// is the first of them that failed; attest.Result.Reasons lists every
// failed check in this order.
//
// The token checks (ReasonInvalidPolicy to ReasonDuplicateKey) stop
// verification: nothing after a token that does not decrypt, verify or
// parse can be read. The verdict checks (ReasonPackageMismatch onwards)
// all run, so that Reasons shows everything wrong with a verdict.
const (
	// ReasonInvalidPolicy: the Policy is unusable (see Policy.Validate),
	// the expected client data hash is not 32 bytes, or the verification
	// time is zero. A bug in the caller, never the client's fault.
	ReasonInvalidPolicy = "playintegrity.invalid_policy"
	// ReasonTooLarge: the token is longer than Policy.MaxTokenBytes.
	// Nothing was parsed.
	ReasonTooLarge = "playintegrity.too_large"
	// ReasonMalformedToken: the token is not a compact JWE (five parts)
	// whose plaintext is a compact JWS (three parts), a part is not strict
	// base64url, a header is not a JSON object of distinct members, or a
	// header carries what Google's never does: crit, jwk, jku, x5u, x5c,
	// zip, a kid.
	ReasonMalformedToken = "playintegrity.malformed_token"
	// ReasonAlgNotAllowed: the JWE's alg is not A256KW or its enc not
	// A256GCM, or the JWS's alg is not ES256 ("none" included).
	ReasonAlgNotAllowed = "playintegrity.alg_not_allowed"
	// ReasonDecryptFailed: the JWE does not decrypt with the app's
	// decryption key: another key, or a ciphertext, tag, IV, wrapped key
	// or protected header that was altered (AES-GCM authenticates them).
	ReasonDecryptFailed = "playintegrity.decrypt_failed"
	// ReasonBadSignature: the JWS signature does not verify with the
	// app's verification key.
	ReasonBadSignature = "playintegrity.bad_signature"
	// ReasonMalformedPayload: the signed payload is not a JSON object, or
	// a member the checks read is missing or of the wrong type
	// (requestDetails, appIntegrity, deviceIntegrity and their fields).
	ReasonMalformedPayload = "playintegrity.malformed_payload"
	// ReasonDuplicateKey: a JSON object in the payload names a member
	// twice: another parser could read the other copy.
	ReasonDuplicateKey = "playintegrity.duplicate_key"
	// ReasonPackageMismatch: requestDetails.requestPackageName, or
	// appIntegrity.packageName, is not the app's package.
	ReasonPackageMismatch = "playintegrity.package_mismatch"
	// ReasonNonceMismatch: the classic request's nonce or the standard
	// request's requestHash is not base64url(client_data_hash), or the
	// payload has both or neither.
	ReasonNonceMismatch = "playintegrity.nonce_mismatch"
	// ReasonTimestampStale: requestDetails.timestampMillis is older than
	// Policy.MaxAge at the verification time.
	ReasonTimestampStale = "playintegrity.timestamp_stale"
	// ReasonTimestampInFuture: timestampMillis is later than the
	// verification time plus Policy.FutureSkew.
	ReasonTimestampInFuture = "playintegrity.timestamp_in_future"
	// ReasonTestingResponse: the payload is a test response configured in
	// Play Console for a tester account (testingDetails.isTestingResponse),
	// whose verdicts say what the developer chose, not what Google found.
	ReasonTestingResponse = "playintegrity.testing_response"
	// ReasonAppNotRecognized: appRecognitionVerdict is not PLAY_RECOGNIZED
	// (UNRECOGNIZED_VERSION only when the policy allows it; UNEVALUATED
	// never).
	ReasonAppNotRecognized = "playintegrity.app_not_recognized"
	// ReasonCertDigestNotAllowed: certificateSha256Digest is empty, or a
	// digest it lists is not one of the app's.
	ReasonCertDigestNotAllowed = "playintegrity.cert_digest_not_allowed"
	// ReasonVersionTooOld: versionCode is below Policy.MinVersionCode, or
	// missing when a minimum is set.
	ReasonVersionTooOld = "playintegrity.version_too_old"
	// ReasonDeviceIntegrity: deviceRecognitionVerdict lacks the label the
	// policy asks for (MEETS_DEVICE_INTEGRITY by default).
	ReasonDeviceIntegrity = "playintegrity.device_integrity"
	// ReasonUnlicensed: the policy requires a licensed install and
	// accountDetails.appLicensingVerdict is not LICENSED.
	ReasonUnlicensed = "playintegrity.unlicensed"
)

// Reasons is every reason code Verify can return, in check order.
var Reasons = []string{
	ReasonInvalidPolicy,
	ReasonTooLarge,
	ReasonMalformedToken,
	ReasonAlgNotAllowed,
	ReasonDecryptFailed,
	ReasonBadSignature,
	ReasonMalformedPayload,
	ReasonDuplicateKey,
	ReasonPackageMismatch,
	ReasonNonceMismatch,
	ReasonTimestampStale,
	ReasonTimestampInFuture,
	ReasonTestingResponse,
	ReasonAppNotRecognized,
	ReasonCertDigestNotAllowed,
	ReasonVersionTooOld,
	ReasonDeviceIntegrity,
	ReasonUnlicensed,
}
