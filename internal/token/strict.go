package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
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

// maxJSONDepth bounds nesting in headers, payloads and footers; claims
// nested deeper are not claims anyone means.
const maxJSONDepth = 32

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member name")
)

// parseObject decodes a JSON object strictly: valid UTF-8, no member name
// twice in any object (RFC 8725 §2.6: the gateway forwards claims to
// parsers that may pick the other copy), no trailing data, bounded
// depth. Numbers stay json.Number. Decoding into a map, never a struct,
// also keeps member names exact: encoding/json matches struct fields
// case-insensitively, so {"alg":..,"ALG":..} would otherwise collide.
func parseObject(b []byte) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	m, err := readObject(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotObject
	}
	return m, nil
}

func readObject(dec *json.Decoder, depth int) (map[string]any, error) {
	if depth > maxJSONDepth {
		return nil, errNotObject
	}
	m := make(map[string]any, 8)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errNotObject
		}
		if tok == json.Delim('}') {
			return m, nil
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		if _, dup := m[name]; dup {
			return nil, errDuplicate
		}
		v, err := readValue(dec, depth)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

func readValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotObject
	}
	switch tok {
	case json.Delim('{'):
		return readObject(dec, depth+1)
	case json.Delim('['):
		if depth+1 > maxJSONDepth {
			return nil, errNotObject
		}
		arr := []any{}
		for dec.More() {
			v, err := readValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if end, err := dec.Token(); err != nil || end != json.Delim(']') {
			return nil, errNotObject
		}
		return arr, nil
	case json.Delim('}'), json.Delim(']'):
		return nil, errNotObject
	}
	return tok, nil
}

// objectError turns a parseObject error into a refusal: duplicates have
// their own reason, anything else is the caller's.
func objectError(err error, reason, what string) *Error {
	if errors.Is(err, errDuplicate) {
		return newError(ReasonDuplicateKey, what+" names a member twice")
	}
	return newError(reason, what+" is not a JSON object")
}
