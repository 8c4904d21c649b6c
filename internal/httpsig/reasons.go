package httpsig

import (
	"errors"
	"fmt"
)

// Reason codes of refused signatures, in the order Verify checks them:
// first the fields' presence and size, then their syntax, then the policy
// on what the signature says (coverage, tag, time, nonce), then the key and
// algorithm, then the signature base and the signature itself, then the
// body's digest, and last the replay guard, so that only a message that
// passed everything else consumes its nonce. Two codes also come from
// later steps: too_large from the bound on Content-Digest, unavailable
// from the key resolver as well as the replay guard. The codes are stable:
// the gateway maps each to a status once, logs it and counts it; clients
// see the code, never an Error's detail.
const (
	// ReasonMissing: the message has no Signature-Input or no Signature
	// field, or the one it has is empty.
	ReasonMissing = "signature.missing"
	// ReasonTooLarge: Signature-Input, Signature or Content-Digest is longer
	// than its limit, or there are more signatures or covered components
	// than Limits allow. Checked before parsing.
	ReasonTooLarge = "signature.too_large"
	// ReasonMalformedInput: Signature-Input is not a Dictionary of Inner
	// Lists (RFC 8941), a covered component is not a lowercase String with
	// known parameters, a component is listed twice, or a signature
	// parameter has the wrong type.
	ReasonMalformedInput = "signature.malformed_input"
	// ReasonMalformedSignature: Signature is not a Dictionary, or the
	// selected member is not a Byte Sequence.
	ReasonMalformedSignature = "signature.malformed_signature"
	// ReasonLabelNotFound: the label asked for is not in Signature-Input,
	// or Signature has no member with the selected label.
	ReasonLabelNotFound = "signature.label_not_found"
	// ReasonCoversNothing: the signature covers no component: it could be
	// replayed onto any message (RFC 9421 §7.2.1).
	ReasonCoversNothing = "signature.covers_nothing"
	// ReasonMissingComponent: the signature does not cover a component the
	// policy requires (Verifier.Required).
	ReasonMissingComponent = "signature.missing_component"
	// ReasonTagMismatch: the signature's tag parameter is not the one the
	// verifier expects (Verifier.Tag).
	ReasonTagMismatch = "signature.tag_mismatch"
	// ReasonMissingCreated: the signature has no created parameter, which
	// the verifier requires to bound its age.
	ReasonMissingCreated = "signature.missing_created"
	// ReasonCreatedInFuture: created is later than now plus the allowed
	// clock skew.
	ReasonCreatedInFuture = "signature.created_in_future"
	// ReasonExpired: expires is earlier than now minus the allowed skew.
	ReasonExpired = "signature.expired"
	// ReasonTooOld: created is older than the maximum age.
	ReasonTooOld = "signature.too_old"
	// ReasonMissingNonce: the verifier requires a nonce (RequireNonce, or a
	// ReplayGuard is configured) and the signature has none.
	ReasonMissingNonce = "signature.missing_nonce"
	// ReasonUnknownKey: the signature names no keyid, the key resolver does
	// not know it, or the key it returns is unusable with its algorithm.
	ReasonUnknownKey = "signature.unknown_key"
	// ReasonAlgNotAllowed: the key's algorithm is not in the verifier's
	// allow-list.
	ReasonAlgNotAllowed = "signature.alg_not_allowed"
	// ReasonAlgMismatch: the signature's alg parameter is not the key's
	// algorithm. The key decides the algorithm, never the message.
	ReasonAlgMismatch = "signature.alg_mismatch"
	// ReasonComponentUnavailable: a covered component cannot be computed
	// from the message: an absent field, query parameter or dictionary
	// member, a derived component that does not apply (@status of a
	// request), a req component without the request, a field that does not
	// parse as the structured type sf or key needs, trailers (tr), or a value
	// with a byte that cannot appear in a signature base.
	ReasonComponentUnavailable = "signature.component_unavailable"
	// ReasonInvalid: the signature does not verify over the signature base
	// with the key: the message was changed, or the key is not the signer's.
	ReasonInvalid = "signature.invalid"
	// ReasonBodyTooLarge: the body is longer than Limits.MaxBodyBytes, so
	// its digest is not computed.
	ReasonBodyTooLarge = "signature.body_too_large"
	// ReasonMalformedDigest: Content-Digest is not a Dictionary, or a
	// sha-256 or sha-512 member is not a Byte Sequence of the right length.
	ReasonMalformedDigest = "signature.malformed_digest"
	// ReasonDigestMissing: the message has a body and the policy requires a
	// digest, but Content-Digest is absent or has no sha-256 or sha-512
	// member (unknown algorithms are ignored, RFC 9530 §2).
	ReasonDigestMissing = "signature.digest_missing"
	// ReasonDigestMismatch: a sha-256 or sha-512 Content-Digest member does
	// not match the body.
	ReasonDigestMismatch = "signature.digest_mismatch"
	// ReasonReplayedNonce: the replay guard has seen this keyid and nonce
	// before.
	ReasonReplayedNonce = "signature.replayed_nonce"
	// ReasonUnavailable: the key resolver or the replay guard failed (a
	// store that cannot be reached); the verifier fails closed.
	ReasonUnavailable = "signature.unavailable"
)

// Reasons lists every reason code in the documented order, for metrics that
// pre-declare their label values and for the gateway's reason-to-status
// table.
var Reasons = []string{
	ReasonMissing,
	ReasonTooLarge,
	ReasonMalformedInput,
	ReasonMalformedSignature,
	ReasonLabelNotFound,
	ReasonCoversNothing,
	ReasonMissingComponent,
	ReasonTagMismatch,
	ReasonMissingCreated,
	ReasonCreatedInFuture,
	ReasonExpired,
	ReasonTooOld,
	ReasonMissingNonce,
	ReasonUnknownKey,
	ReasonAlgNotAllowed,
	ReasonAlgMismatch,
	ReasonComponentUnavailable,
	ReasonInvalid,
	ReasonBodyTooLarge,
	ReasonMalformedDigest,
	ReasonDigestMissing,
	ReasonDigestMismatch,
	ReasonReplayedNonce,
	ReasonUnavailable,
}

// Error is a refused signature. Its message never holds key material,
// signature bytes or the signature base; it may quote the names of
// components and parameters the message carried.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Label is the signature's label, when one was selected.
	Label string
	// Detail says what was wrong, for logs.
	Detail string
	// Err is the underlying cause (a resolver's or replay guard's error),
	// if any.
	Err error
}

func (e *Error) Error() string {
	msg := "httpsig: " + e.Detail
	if e.Label != "" {
		msg = fmt.Sprintf("httpsig: signature %q: %s", e.Label, e.Detail)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + " (" + e.Reason + ")"
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason code of err, or "" if err is not (or does not
// wrap) an *Error.
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
