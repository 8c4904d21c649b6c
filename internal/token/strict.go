package token

import (
	"encoding/base64"
	"errors"

	"github.com/drawbridge-gw/drawbridge/internal/strictjson"
)

// b64 is base64url without padding, refusing non-zero trailing bits
// (RFC 7515 §2 and Appendix C; RFC 4648 §3.5).
var b64 = base64.RawURLEncoding.Strict()

// decodeSegment decodes one base64url segment strictly. Go's decoder
// skips CR and LF even in strict mode, so the alphabet is checked first:
// a token has exactly one spelling.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !b64url[s[i]] {
			return nil, newError(ReasonBadEncoding, "a segment is not base64url")
		}
	}
	out, err := b64.DecodeString(s)
	if err != nil {
		return nil, newError(ReasonBadEncoding, "a segment is not canonical base64url")
	}
	return out, nil
}

var b64url = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return
}()

var (
	errNotObject = strictjson.ErrMalformed
	errDuplicate = strictjson.ErrDuplicate
)

// parseObject decodes a JSON object strictly (see package strictjson):
// no member named twice, which RFC 8725 §2.6 asks of JWT parsers.
func parseObject(b []byte) (map[string]any, error) { return strictjson.ParseObject(b) }

// objectError turns a parseObject error into a refusal: duplicates have
// their own reason, anything else is the caller's.
func objectError(err error, reason, what string) *Error {
	if errors.Is(err, errDuplicate) {
		return newError(ReasonDuplicateKey, what+" names a member twice")
	}
	return newError(reason, what+" is not a JSON object")
}
