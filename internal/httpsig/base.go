package httpsig

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
)

// Base returns the signature base (RFC 9421 §2.5) of the signature labelled
// label in input, a Signature-Input field value, over msg: byte for byte
// what its signer signed. An empty label selects the first signature. It is
// for tools and tests; Verifier.Verify builds the same base.
func Base(msg Message, input, label string) ([]byte, error) {
	var lim Limits
	d, err := parseInputs([]string{input}, lim)
	if err != nil {
		return nil, err
	}
	if label == "" {
		label = d.Names()[0]
	}
	m, ok := d.Get(label)
	if !ok {
		return nil, fail(ReasonLabelNotFound, "Signature-Input has no member %q", label)
	}
	in, err := parseInput(label, m, lim)
	if err != nil {
		return nil, err
	}
	return baseBuilder{}.build(msg, in.comps, in.raw)
}

// baseBuilder computes signature bases.
type baseBuilder struct {
	// types add to or override the structured field types known without
	// configuration; lowercase names.
	types map[string]FieldType
}

func (b baseBuilder) fieldType(name string) (FieldType, bool) {
	if t, ok := b.types[name]; ok {
		return t, true
	}
	t, ok := structuredFields[name]
	return t, ok
}

// build returns the signature base of msg for the components comps and the
// serialized signature parameters sigParams: one line per component value,
// then the @signature-params line, without a trailing newline.
func (b baseBuilder) build(msg Message, comps []component, sigParams string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(64*len(comps) + len(sigParams) + 24)
	for _, c := range comps {
		vals, err := b.value(msg, c)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if !baseSafe(v) {
				return nil, fail(ReasonComponentUnavailable, "component %s has a byte a signature base cannot hold", c.id)
			}
			buf.WriteString(c.id)
			buf.WriteString(": ")
			buf.WriteString(v)
			buf.WriteByte('\n')
		}
	}
	buf.WriteString(`"@signature-params": `)
	buf.WriteString(sigParams)
	return buf.Bytes(), nil
}

// baseSafe reports whether v holds only visible ASCII, space and tab: a
// newline would forge a base line, and the base is ASCII (RFC 9421 §2.5).
func baseSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

func unavailable(c component, why string) error {
	return fail(ReasonComponentUnavailable, "component %s: %s", c.id, why)
}

// value returns the component's values: one, except for @query-param when
// the parameter is repeated, which gives one line per occurrence in order
// (RFC 9421 §2.2.8).
func (b baseBuilder) value(msg Message, c component) ([]string, error) {
	if c.req && !msg.isResponse() {
		return nil, unavailable(c, "req applies to responses only")
	}
	if c.derived() {
		return b.derived(msg, c)
	}
	var fs []Field
	switch {
	case c.req:
		if msg.Request == nil {
			return nil, unavailable(c, "the related request is not known")
		}
		fs = msg.Request.Fields
	default:
		fs = msg.fields()
	}
	if c.tr {
		return nil, unavailable(c, "trailers are not available")
	}
	vs := values(fs, c.name)
	if len(vs) == 0 {
		return nil, unavailable(c, "the field is absent")
	}
	switch {
	case c.bs:
		enc := make([]string, len(vs))
		for i, v := range vs {
			enc[i] = ":" + base64.StdEncoding.EncodeToString([]byte(v)) + ":"
		}
		return []string{strings.Join(enc, ", ")}, nil
	case c.hasKey:
		v, ok, err := dictMember(vs, c.key)
		if err != nil {
			return nil, unavailable(c, "the field is not a structured dictionary")
		}
		if !ok {
			return nil, unavailable(c, "the dictionary has no such member")
		}
		return []string{v}, nil
	case c.sf:
		t, ok := b.fieldType(c.name)
		if !ok {
			return nil, unavailable(c, "the field's structured type is not known")
		}
		v, err := strictValue(t, vs)
		if err != nil {
			return nil, unavailable(c, "the field does not parse as its structured type")
		}
		return []string{v}, nil
	}
	return []string{strings.Join(vs, ", ")}, nil
}

// derived computes a derived component (RFC 9421 §2.2).
func (b baseBuilder) derived(msg Message, c component) ([]string, error) {
	if c.name == "@status" {
		if !msg.isResponse() || c.req {
			return nil, unavailable(c, "@status applies to responses only")
		}
		if s := msg.Response.Status; s >= 100 && s <= 999 {
			return []string{strconv.Itoa(s)}, nil
		}
		return nil, unavailable(c, "the status is not a three-digit code")
	}
	if msg.isResponse() && !c.req {
		return nil, unavailable(c, "a response has request components only with req")
	}
	r := msg.Request
	if r == nil {
		return nil, unavailable(c, "the request is not known")
	}
	one := func(v string) ([]string, error) {
		if v == "" {
			return nil, unavailable(c, "the message has no value for it")
		}
		return []string{v}, nil
	}
	switch c.name {
	case "@method":
		return one(r.Method)
	case "@scheme":
		return one(strings.ToLower(r.Scheme))
	case "@authority":
		return one(normalizeAuthority(r.Scheme, r.Authority))
	case "@request-target":
		return one(r.Target)
	}
	path, query, hasQuery, err := splitTarget(r.Target)
	if err != nil {
		return nil, unavailable(c, err.Error())
	}
	switch c.name {
	case "@target-uri":
		if r.Scheme == "" || r.Authority == "" {
			return nil, unavailable(c, "the scheme or authority is not known")
		}
		u := strings.ToLower(r.Scheme) + "://" + normalizeAuthority(r.Scheme, r.Authority) + path
		if hasQuery {
			u += "?" + query
		}
		return []string{u}, nil
	case "@path":
		return []string{path}, nil
	case "@query":
		return []string{"?" + query}, nil
	case "@query-param":
		var vs []string
		for _, p := range queryParams(query) {
			if p.name == c.qname {
				vs = append(vs, p.value)
			}
		}
		if len(vs) == 0 {
			return nil, unavailable(c, "the query has no such parameter")
		}
		return vs, nil
	}
	return nil, unavailable(c, "unknown derived component")
}

type queryParam struct{ name, value string }

// queryParams parses an application/x-www-form-urlencoded query (WHATWG
// URL §5.1) and re-encodes each name and value (RFC 9421 §2.2.8): bytes
// other than ASCII letters, digits and *-._ are percent-encoded, a space
// as %20.
func queryParams(query string) []queryParam {
	var ps []queryParam
	for seq := range strings.SplitSeq(query, "&") {
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		ps = append(ps, queryParam{formEncode(formDecode(name)), formEncode(formDecode(value))})
	}
	return ps
}

func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func formEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '*' || c == '-' || c == '.' || c == '_' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
