package token

import (
	"strings"
)

// Inspection is what a token says about itself, read without checking
// anything: for people debugging tokens, never for decisions.
type Inspection struct {
	// Format is "JWS", "JWE", "v4.public" or "v4.local".
	Format string `json:"format"`
	// Header is the JOSE header, or the PASETO footer when it is JSON.
	Header map[string]any `json:"header,omitempty"`
	// Claims are the payload's claims; absent when encrypted.
	Claims map[string]any `json:"claims,omitempty"`
	// Footer is a PASETO footer that is not JSON.
	Footer string `json:"footer,omitempty"`
}

// Inspect decodes a compact JWS or JWE, or a PASETO v4 token, without
// verifying it. It still refuses what it cannot decode unambiguously
// (with the core's reasons): the same strict base64url and JSON rules.
func Inspect(raw string, maxBytes int) (*Inspection, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTokenBytes
	}
	if len(raw) > maxBytes {
		return nil, newError(ReasonTooLarge, "longer than the size cap")
	}
	if raw == "" {
		return nil, newError(ReasonMalformed, "empty")
	}
	if raw[0] == '{' {
		return nil, newError(ReasonJSONSerialization, "JSON serialisation; inspect reads compact tokens")
	}
	if strings.HasPrefix(raw, "v4.") || (len(raw) > 2 && raw[0] == 'v' && raw[2] == '.') {
		t, err := splitPASETO(raw)
		if err != nil {
			return nil, err
		}
		in := &Inspection{Format: "v4." + t.purpose}
		if len(t.footer) > 0 {
			if m, err := parseObject(t.footer); err == nil {
				in.Header = m
			} else {
				in.Footer = string(t.footer)
			}
		}
		if t.purpose == "public" {
			c, err := parseObject(t.body[:len(t.body)-64])
			if err != nil {
				return nil, objectError(err, ReasonBadClaims, "the payload")
			}
			in.Claims = c
		}
		return in, nil
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil, newError(ReasonMalformed, "not three (JWS) or five (JWE) parts")
	}
	hb, err := decodeSegment(parts[0])
	if err != nil {
		return nil, err
	}
	h, err := parseObject(hb)
	if err != nil {
		return nil, objectError(err, ReasonMalformed, "the header")
	}
	in := &Inspection{Format: "JWS", Header: h}
	if len(parts) == 5 {
		in.Format = "JWE"
		return in, nil
	}
	pb, err := decodeSegment(parts[1])
	if err != nil {
		return nil, err
	}
	c, err := parseObject(pb)
	if err != nil {
		return nil, objectError(err, ReasonBadClaims, "the payload")
	}
	in.Claims = c
	return in, nil
}
