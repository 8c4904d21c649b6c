package dpop

import (
	"errors"
	"fmt"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Reason codes of refused proofs, in the order Verify checks them. They
// are stable: the gateway maps each to a status once, logs and counts it;
// clients see the code, never an Error's detail.
const (
	// ReasonMissing: the request has no DPoP field.
	ReasonMissing = "dpop.missing"
	// ReasonTooLarge: the proof is longer than the size cap.
	ReasonTooLarge = "dpop.too_large"
	// ReasonMalformed: more than one DPoP field, or a proof that is not a
	// compact JWS of strict base64url and duplicate-free JSON, with
	// registered claims of the right types, a jti of at most 256 bytes and
	// no crit.
	ReasonMalformed = "dpop.malformed"
	// ReasonBadType: typ is not dpop+jwt (RFC 9449 §4.2).
	ReasonBadType = "dpop.bad_type"
	// ReasonAlgNotAllowed: alg is none, symmetric, or not on the
	// allow-list.
	ReasonAlgNotAllowed = "dpop.alg_not_allowed"
	// ReasonBadKey: the header has no jwk, or one with private or
	// symmetric material, or one that does not fit alg; or it names a key
	// elsewhere (kid, jku, x5u, x5c).
	ReasonBadKey = "dpop.bad_key"
	// ReasonInvalidSignature: the signature does not verify with the
	// header's jwk.
	ReasonInvalidSignature = "dpop.invalid_signature"
	// ReasonMissingClaim: jti, htm, htu or iat is absent or empty.
	ReasonMissingClaim = "dpop.missing_claim"
	// ReasonMethodMismatch: htm is not the request's method.
	ReasonMethodMismatch = "dpop.method_mismatch"
	// ReasonURIMismatch: htu, normalised, is not the request's URI
	// without query and fragment.
	ReasonURIMismatch = "dpop.uri_mismatch"
	// ReasonUseNonce: the server requires a nonce and the proof has none,
	// or one the server did not issue or that has expired. The answer
	// carries a fresh nonce (RFC 9449 §8).
	ReasonUseNonce = "dpop.use_nonce"
	// ReasonIATInFuture: iat is later than now plus the allowed skew.
	ReasonIATInFuture = "dpop.iat_in_future"
	// ReasonTooOld: iat is older than the maximum age.
	ReasonTooOld = "dpop.too_old"
	// ReasonAthMismatch: an access token was presented and ath is absent
	// or not base64url(SHA-256(access token)) (RFC 9449 §4.3 check 12).
	ReasonAthMismatch = "dpop.ath_mismatch"
	// ReasonKeyMismatch: the proof's key is not the key a credential of
	// the request is bound to (cnf.jkt, RFC 9449 §6).
	ReasonKeyMismatch = "dpop.key_mismatch"
	// ReasonReplayed: the replay guard has seen this key's jti before.
	ReasonReplayed = "dpop.replayed"
	// ReasonUnavailable: the replay guard failed; the verifier fails
	// closed.
	ReasonUnavailable = "dpop.unavailable"
)

// Reasons lists every reason code in check order.
var Reasons = []string{
	ReasonMissing, ReasonTooLarge, ReasonMalformed, ReasonBadType, ReasonAlgNotAllowed,
	ReasonBadKey, ReasonInvalidSignature, ReasonMissingClaim, ReasonMethodMismatch,
	ReasonURIMismatch, ReasonUseNonce, ReasonIATInFuture, ReasonTooOld, ReasonAthMismatch,
	ReasonKeyMismatch, ReasonReplayed, ReasonUnavailable,
}

// Error is a refused proof. Its message never holds the proof, the access
// token or key material.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Detail says what was wrong, for logs.
	Detail string
	// Err is the underlying cause (the JWS check's or the replay guard's
	// error), if any.
	Err error
}

func (e *Error) Error() string {
	msg := "dpop: " + e.Detail
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + " (" + e.Reason + ")"
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason code of err, or "" if err is not (or does
// not wrap) an *Error.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// jwsReason maps the token core's refusal of the proof's JWS to a DPoP
// reason.
func jwsReason(err error) string {
	switch token.ReasonOf(err) {
	case token.ReasonTooLarge:
		return ReasonTooLarge
	case token.ReasonType:
		return ReasonBadType
	case token.ReasonAlgNone, token.ReasonAlgNotAllowed:
		return ReasonAlgNotAllowed
	case token.ReasonKeyMismatch, token.ReasonHeaderInjection, token.ReasonBadKID:
		return ReasonBadKey
	case token.ReasonBadSignature:
		return ReasonInvalidSignature
	}
	// json_serialization, malformed, bad_encoding, duplicate_key,
	// crit_unsupported, bad_claims.
	return ReasonMalformed
}
