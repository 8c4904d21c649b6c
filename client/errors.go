package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
)

// Error is the gateway's refusal of an attestation request (the
// challenge or the exchange). Branch on Reason, never on the text
// (docs/protocol.md, Reasons): attestation.device_revoked means the
// operator revoked this install, attestation.version_blocked that the
// user should update the app, attestation.unavailable that a retry later
// may succeed.
type Error struct {
	// Endpoint is the attestation endpoint that refused: "challenge",
	// "dev", "apple", ...
	Endpoint string
	// Status is the HTTP status.
	Status int
	// Reason is the problem's reason code; empty when the answer was not
	// an application/problem+json body.
	Reason string
	// Body is the answer's body (at most 64 KiB), as the gateway sent it.
	Body []byte
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("client: attestation %s refused: %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("client: attestation %s refused: %s (%d)", e.Endpoint, e.Reason, e.Status)
}

func refusal(endpoint string, resp *http.Response, body []byte) *Error {
	return &Error{Endpoint: endpoint, Status: resp.StatusCode, Reason: problemReason(resp.Header, body), Body: body}
}

// problemReason returns the reason of an RFC 9457 problem body, or "".
func problemReason(h http.Header, body []byte) string {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/problem+json" {
		return ""
	}
	var p struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Reason
}
