// Package httpsig signs and verifies HTTP messages with HTTP Message
// Signatures (RFC 9421), and checks their content with Content-Digest
// (RFC 9530). Signing and verifying share one signature base builder, so
// what Signer signs, Verifier accepts.
//
// # Components come from the message as sent
//
// A signature covers components of the message: derived ones such as
// @method, @authority, @path and @query, and header fields. The signer
// computed them from the bytes it sent; the verifier must compute the same
// bytes, or a valid signature fails, and, worse, a verifier that computes
// them from a normalized URL may accept a message the signer never sent.
// net/http's r.URL has been parsed and re-encoded, r.Host may be the
// gateway's listener behind a load balancer, and r.Header has lost the
// order of field lines between names. So the input is a small Request:
// the method, the request-target exactly as received, the public scheme
// and authority the client addressed (an Origin, configured for
// deployments behind a TLS-terminating load balancer), and the header
// field lines in order with repeats kept (RFC 9421 §2.1 combines lines of
// one name in order: swapping two Accept lines breaks the signature).
// NewRequest builds one from an *http.Request and its original target.
//
// # Covering nothing is refused
//
// A signature whose Signature-Input lists no component signs only its own
// parameters. It verifies on any message with the same keyid: copied onto
// another request, it vouches for it (RFC 9421 §7.2.1). A Verifier refuses
// it unless AllowEmpty is set, and by default requires @method,
// @authority and @path, and content-digest when there is a body, whose
// digest is then checked against the body. A signature over the path but
// not the body would let the body be swapped.
//
// # The key decides
//
// A KeyResolver maps the keyid to a Key bound to one Algorithm, from an
// allow-list; the message's alg parameter may only agree with it. Time is
// injected (Verifier.Now), created is required and bounded by a maximum
// age, and with a ReplayGuard each keyid and nonce is accepted once. Every
// refusal is an *Error with a stable reason code, "signature.<reason>",
// listed in Reasons in the order they are checked.
package httpsig
