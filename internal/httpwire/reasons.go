package httpwire

// Reason codes of refused requests. They are stable: the gateway maps each
// to a status once, logs it and counts it; clients see the code, never a
// parser message.
const (
	// ReasonBadRequestLine: the request line is not exactly
	// "method SP request-target SP HTTP-version" (RFC 9112 §3), or the
	// target is not origin-, absolute- or asterisk-form, holds a control
	// character, a space, a byte >= 0x80, a '#' or a malformed %-escape in
	// its path.
	ReasonBadRequestLine = "framing.bad_request_line"
	// ReasonURITooLong: the request line is longer than
	// Limits.MaxRequestLineBytes.
	ReasonURITooLong = "framing.uri_too_long"
	// ReasonHeadersTooLarge: the head is longer than Limits.MaxHeaderBytes
	// or has more than Limits.MaxHeaderCount field lines.
	ReasonHeadersTooLarge = "framing.headers_too_large"
	// ReasonBadHeader: a field line is malformed: a field name that is not
	// a token or contains '_', whitespace before the colon, obs-fold or a
	// line starting with whitespace, a control character other than HTAB
	// (bare CR included) in a value, or a client-sent Drawbridge-Refusal.
	ReasonBadHeader = "framing.bad_header"
	// ReasonBareLF: a LF not preceded by CR in the head or in chunked
	// framing (RFC 9112 §2.2 allows accepting it; a gateway must not, or it
	// and the upstream may end the request at different bytes).
	ReasonBareLF = "framing.bare_lf"
	// ReasonBadHost: Host is missing from an HTTP/1.1 request, repeated, or
	// not uri-host [":" port]; or an absolute-form target has a bad
	// authority (userinfo included).
	ReasonBadHost = "framing.bad_host"
	// ReasonCLTE: both Content-Length and Transfer-Encoding are present
	// (RFC 9112 §6.3 lets a server drop Content-Length; a gateway refuses).
	ReasonCLTE = "framing.cl_te"
	// ReasonBadContentLength: Content-Length is not 1 to 18 digits, or
	// appears more than once (even with identical values, or as a list).
	ReasonBadContentLength = "framing.bad_content_length"
	// ReasonBadTransferEncoding: Transfer-Encoding is anything but a single
	// field whose value is "chunked" (any case, optional whitespace), or is
	// sent in an HTTP/1.0 request.
	ReasonBadTransferEncoding = "framing.bad_transfer_encoding"
	// ReasonBadChunk: the chunked body is malformed: a chunk-size that is
	// not 1 to 16 hex digits or exceeds 2^63-1, whitespace or a "0x" in
	// it, a malformed or oversized chunk line (Limits.MaxChunkLineBytes),
	// chunk data not followed by CRLF, or malformed, oversized
	// (Limits.MaxTrailerBytes) or framing-related trailer fields.
	ReasonBadChunk = "framing.bad_chunk"
	// ReasonH2CUpgrade: an attempt to switch to HTTP/2 in the clear: an
	// Upgrade to h2c (or h2), an HTTP2-Settings field, or the prior-knowledge
	// preface "PRI * HTTP/2.0". Such a connection would bypass this guard.
	ReasonH2CUpgrade = "framing.h2c_upgrade"
	// ReasonBadConnection: the Connection field names Content-Length,
	// Transfer-Encoding or Host, asking the next hop to drop a framing
	// field.
	ReasonBadConnection = "framing.bad_connection"
	// ReasonMethodNotAllowed: the method is CONNECT (a gateway is not a
	// tunnel) or not a token (RFC 9110 §9.1).
	ReasonMethodNotAllowed = "framing.method_not_allowed"
	// ReasonBadVersion: the version is not exactly HTTP/1.1 or HTTP/1.0.
	ReasonBadVersion = "framing.bad_version"
)

// Reasons lists every reason code, for metrics that pre-declare their
// label values and for the gateway's reason-to-status table.
var Reasons = []string{
	ReasonBadRequestLine,
	ReasonURITooLong,
	ReasonHeadersTooLarge,
	ReasonBadHeader,
	ReasonBareLF,
	ReasonBadHost,
	ReasonCLTE,
	ReasonBadContentLength,
	ReasonBadTransferEncoding,
	ReasonBadChunk,
	ReasonH2CUpgrade,
	ReasonBadConnection,
	ReasonMethodNotAllowed,
	ReasonBadVersion,
}

// Error is returned by Conn.Read when a body turns out to be malformed
// after its request's head has already been handed to net/http. The
// connection is dead from then on.
type Error struct {
	Code string // one of the Reason constants
}

func (e *Error) Error() string { return "httpwire: malformed request body (" + e.Code + ")" }

// Reason returns the stable reason code.
func (e *Error) Reason() string { return e.Code }
