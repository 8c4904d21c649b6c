package token

import "errors"

// Reason codes, in the order the checks run (see the package doc). A
// refusal carries the reason of the first check that failed.
const (
	ReasonTooLarge          = "token.too_large"           // longer than the size cap; nothing was parsed
	ReasonJSONSerialization = "token.json_serialization"  // JWS/JWE JSON serialisation where compact is expected
	ReasonMalformed         = "token.malformed"           // wrong number of parts, empty parts, a header that is not a JSON object, an unknown PASETO version
	ReasonJWENotAccepted    = "token.jwe_not_accepted"    // a JWE (five parts) where no decryption key is configured
	ReasonBadEncoding       = "token.bad_encoding"        // not strict base64url (padding, stray characters, non-canonical trailing bits)
	ReasonDuplicateKey      = "token.duplicate_key"       // a JSON object (header, payload, footer) names a member twice
	ReasonAlgNone           = "token.alg_none"            // alg "none", in any spelling
	ReasonCritUnsupported   = "token.crit_unsupported"    // a crit header parameter (RFC 7515 §4.1.11): none is supported
	ReasonHeaderInjection   = "token.header_injection"    // jwk, jku, x5u or x5c in the header (RFC 8725 §3.10)
	ReasonBadKID            = "token.bad_kid"             // kid too long, not a string, or with control, path or quoting characters
	ReasonJWEAlgNotAllowed  = "token.jwe_alg_not_allowed" // JWE alg or enc not on the allow-list (RSA1_5 never, PBES2 unless enabled)
	ReasonJWEZip            = "token.jwe_zip"             // a compressed JWE where compression is off
	ReasonJWEP2C            = "token.jwe_p2c"             // PBES2 p2c missing or above the cap
	ReasonJWEBadEPK         = "token.jwe_bad_epk"         // an ECDH-ES ephemeral key that is not a point of the recipient's curve
	ReasonDecrypt           = "token.decrypt"             // the JWE or PASETO v4.local token did not decrypt with the key
	ReasonJWEUnsigned       = "token.jwe_unsigned"        // a JWE whose plaintext is not a signed JWT (RFC 8725 §2.3)
	ReasonBadClaims         = "token.bad_claims"          // the payload is not a JSON object, or a registered claim has the wrong type
	ReasonIssuer            = "token.issuer"              // iss missing or not a configured issuer (exact match)
	ReasonAlgNotAllowed     = "token.alg_not_allowed"     // alg not on the issuer's allow-list
	ReasonKeysUnavailable   = "token.keys_unavailable"    // the issuer's key set could not be fetched yet
	ReasonUnknownKID        = "token.unknown_kid"         // no key of the issuer has the kid (or, without kid, no single key fits)
	ReasonKeyMismatch       = "token.key_mismatch"        // the key's type or declared alg does not agree with the token's alg (RFC 8725 §3.1)
	ReasonBadSignature      = "token.bad_signature"       // the signature does not verify, or is not the exact encoding of its algorithm
	ReasonType              = "token.type"                // typ is not the one the issuer requires (RFC 8725 §3.11, RFC 9068 §2.1)
	ReasonMissingExp        = "token.missing_exp"         // no exp claim
	ReasonExpired           = "token.expired"             // now is at or after exp plus leeway (RFC 7519 §4.1.4)
	ReasonNotYetValid       = "token.not_yet_valid"       // nbf or iat later than now plus leeway
	ReasonTooOld            = "token.too_old"             // iat older than the issuer's max token age
	ReasonAudience          = "token.audience"            // aud does not name a configured audience (RFC 7519 §4.1.3)
	ReasonMissingClaim      = "token.missing_claim"       // a required claim is absent
)

// Reasons returns every reason code, in check order.
func Reasons() []string {
	return []string{
		ReasonTooLarge, ReasonJSONSerialization, ReasonMalformed, ReasonJWENotAccepted,
		ReasonBadEncoding, ReasonDuplicateKey, ReasonAlgNone, ReasonCritUnsupported,
		ReasonHeaderInjection, ReasonBadKID, ReasonJWEAlgNotAllowed, ReasonJWEZip, ReasonJWEP2C,
		ReasonJWEBadEPK, ReasonDecrypt, ReasonJWEUnsigned, ReasonBadClaims, ReasonIssuer,
		ReasonAlgNotAllowed, ReasonKeysUnavailable, ReasonUnknownKID, ReasonKeyMismatch,
		ReasonBadSignature, ReasonType, ReasonMissingExp, ReasonExpired, ReasonNotYetValid,
		ReasonTooOld, ReasonAudience, ReasonMissingClaim,
	}
}

// Error is a refusal. Its Reason is stable and meant for machines; its
// message says what failed in words, and never contains the token, a
// claim value or key material.
type Error struct {
	reason string
	msg    string
}

func newError(reason, msg string) *Error { return &Error{reason: reason, msg: msg} }

// Error returns "token: " and the message.
func (e *Error) Error() string { return "token: " + e.msg }

// Reason returns the stable reason code, such as "token.expired".
func (e *Error) Reason() string { return e.reason }

// Is reports whether target is an *Error with the same reason, so that
// errors.Is(err, token.ErrExpired) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.reason == e.reason
}

// Sentinel errors for errors.Is, one per reason.
var (
	ErrTooLarge        = newError(ReasonTooLarge, "too large")
	ErrExpired         = newError(ReasonExpired, "expired")
	ErrBadSignature    = newError(ReasonBadSignature, "signature does not verify")
	ErrUnknownKID      = newError(ReasonUnknownKID, "no key with this kid")
	ErrKeysUnavailable = newError(ReasonKeysUnavailable, "key set unavailable")
)

// ReasonOf returns the reason code of err, or "" if it carries none.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.reason
	}
	return ""
}
