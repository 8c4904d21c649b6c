// Package strictjson decodes JSON objects from attackers strictly.
//
// encoding/json accepts an object that names a member twice and keeps
// the last copy; another parser may keep the first. A token or verdict
// that two parsers read two ways is a forgery waiting to happen (RFC 8725
// §2.6), so every security-relevant JSON object drawbridge reads goes
// through ParseObject: valid UTF-8, no member named twice at any depth,
// no trailing data, bounded nesting. Decoding into a map, never a struct,
// also keeps member names exact: encoding/json matches struct fields
// case-insensitively, so {"alg":..,"ALG":..} would otherwise collide.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// MaxDepth bounds nesting: objects nested deeper are not data anyone means.
const MaxDepth = 32

var (
	// ErrMalformed: not one JSON object, invalid UTF-8, or nested too deep.
	ErrMalformed = errors.New("strictjson: not a well-formed JSON object")
	// ErrDuplicate: a member is named twice in one object.
	ErrDuplicate = errors.New("strictjson: duplicate member name")
)

// ParseObject decodes b, which must be exactly one JSON object nested at
// most MaxDepth deep. Numbers stay json.Number.
func ParseObject(b []byte) (map[string]any, error) { return ParseObjectDepth(b, MaxDepth) }

// ParseObjectDepth is ParseObject with another bound on nesting.
func ParseObjectDepth(b []byte, maxDepth int) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, ErrMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, ErrMalformed
	}
	m, err := readObject(dec, 1, maxDepth)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrMalformed
	}
	return m, nil
}

func readObject(dec *json.Decoder, depth, maxDepth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, ErrMalformed
	}
	m := make(map[string]any, 8)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, ErrMalformed
		}
		if tok == json.Delim('}') {
			return m, nil
		}
		name, ok := tok.(string)
		if !ok {
			return nil, ErrMalformed
		}
		if _, dup := m[name]; dup {
			return nil, ErrDuplicate
		}
		v, err := readValue(dec, depth, maxDepth)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

func readValue(dec *json.Decoder, depth, maxDepth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, ErrMalformed
	}
	switch tok {
	case json.Delim('{'):
		return readObject(dec, depth+1, maxDepth)
	case json.Delim('['):
		if depth+1 > maxDepth {
			return nil, ErrMalformed
		}
		arr := []any{}
		for dec.More() {
			v, err := readValue(dec, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if end, err := dec.Token(); err != nil || end != json.Delim(']') {
			return nil, ErrMalformed
		}
		return arr, nil
	case json.Delim('}'), json.Delim(']'):
		return nil, ErrMalformed
	}
	return tok, nil
}
