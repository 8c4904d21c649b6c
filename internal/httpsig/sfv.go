package httpsig

// Structured Field Values (RFC 8941) are parsed and serialized with
// github.com/dunglas/httpsfv rather than by hand: it is maintained,
// dependency-free, passes the httpwg structured-field-tests suite, is
// fuzzed upstream, and is already relied on by quic-go's HTTP/3 and by
// other RFC 9421 implementations (yaronf/httpsign). A hand-written parser
// would be one more place for the gateway and the upstream to disagree.
// RFC 9421 needs exactly what it offers: ordered dictionaries and
// parameters, and the strict serialization that the sf and key parameters
// and @signature-params are defined by. This file bounds its input before
// parsing and turns its values into the few typed shapes a signature has.
// It implements RFC 9651, which adds Dates and Display Strings to RFC
// 8941; a created or expires written as a Date is not an Integer and is
// refused.
//
// One RFC 8941 rule matters here: a Dictionary key or parameter that
// appears twice keeps its first position and its last value. Every RFC 8941
// parser agrees on that, so a verifier behind this gateway reads the same
// signature as the gateway did.

import (
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// FieldType is the Structured Field type (RFC 8941 §3) of a header field,
// which the sf parameter needs in order to re-serialize a field strictly
// (RFC 9421 §2.1.1).
type FieldType int

// Structured field types.
const (
	TypeItem FieldType = iota + 1
	TypeList
	TypeDictionary
)

// structuredFields are the fields whose structured type is known without
// configuration: those defined as structured fields by the RFCs this
// gateway meets. Verifier.StructuredFields and Signer.StructuredFields add
// others.
var structuredFields = map[string]FieldType{
	"accept-signature":    TypeDictionary, // RFC 9421 §5.1
	"signature-input":     TypeDictionary, // RFC 9421 §4.1
	"signature":           TypeDictionary, // RFC 9421 §4.2
	"content-digest":      TypeDictionary, // RFC 9530 §2
	"repr-digest":         TypeDictionary, // RFC 9530 §3
	"want-content-digest": TypeDictionary, // RFC 9530 §4
	"want-repr-digest":    TypeDictionary, // RFC 9530 §4
	"priority":            TypeDictionary, // RFC 9218 §5
	"cdn-cache-control":   TypeDictionary, // RFC 9213 §2
	"cache-status":        TypeList,       // RFC 9211 §2
	"proxy-status":        TypeList,       // RFC 9209 §2
	"accept-ch":           TypeList,       // RFC 8942 §3.1
	"client-cert":         TypeItem,       // RFC 9440 §2.2
	"client-cert-chain":   TypeList,       // RFC 9440 §2.3
	"example-dict":        TypeDictionary, // RFC 9421 §2.1.1's example field
}

// joinedLen is the length of values joined with ", ", as the parser sees
// them.
func joinedLen(values []string) int {
	n := 0
	for i, v := range values {
		if i > 0 {
			n += 2
		}
		n += len(v)
	}
	return n
}

// marshal serializes a value the parser produced; such values always
// serialize.
func marshal(v httpsfv.StructuredFieldValue) (string, error) {
	return httpsfv.Marshal(v)
}

// strictValue re-serializes the combined field value as the structured
// type t (RFC 9421 §2.1.1).
func strictValue(t FieldType, values []string) (string, error) {
	switch t {
	case TypeDictionary:
		d, err := httpsfv.UnmarshalDictionary(values)
		if err != nil {
			return "", err
		}
		return marshal(d)
	case TypeList:
		l, err := httpsfv.UnmarshalList(values)
		if err != nil {
			return "", err
		}
		return marshal(l)
	default:
		it, err := httpsfv.UnmarshalItem(values)
		if err != nil {
			return "", err
		}
		return marshal(it)
	}
}

// dictMember serializes the member key of the Dictionary field (RFC 9421
// §2.1.2). ok is false when the member is absent.
func dictMember(values []string, key string) (v string, ok bool, err error) {
	d, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return "", false, err
	}
	m, ok := d.Get(key)
	if !ok {
		return "", false, nil
	}
	v, err = marshal(m)
	return v, true, err
}

// component is one covered component identifier (RFC 9421 §2): a field
// name or a derived component name, with its parameters.
type component struct {
	id    string // its serialization as listed; the base line's prefix
	canon string // canonical(), computed once
	name  string // lowercase field name or @derived name
	key   string // the key parameter (dictionary member), if hasKey
	qname string // the name parameter of @query-param, if hasName
	hasKey, hasName,
	sf, bs, req, tr bool
}

func (c component) derived() bool { return strings.HasPrefix(c.name, "@") }

// canonical identifies the component whatever the order of its
// parameters: `"x";sf;req` and `"x";req;sf` are the same component.
func (c component) canonical() string {
	if c.canon != "" {
		return c.canon
	}
	s := quote(c.name)
	if c.hasName {
		s += ";name=" + quote(c.qname)
	}
	if c.hasKey {
		s += ";key=" + quote(c.key)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{c.sf, ";sf"}, {c.bs, ";bs"}, {c.req, ";req"}, {c.tr, ";tr"}} {
		if f.on {
			s += f.name
		}
	}
	return s
}

// quote serializes s as an sf-string (RFC 8941 §4.1.6). Names parsed from
// a structured field hold only printable ASCII; any other byte is kept, so
// such a name never matches a parsed one.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// derivedNames are the derived components of RFC 9421 §2.2 this package
// computes.
var derivedNames = map[string]bool{
	"@method": true, "@target-uri": true, "@authority": true, "@scheme": true,
	"@request-target": true, "@path": true, "@query": true, "@query-param": true,
	"@status": true,
}

// parseComponent reads one covered component from an Inner List item.
// Errors are malformed_input: what the identifier says is impossible or
// unknown. Whether the message has the component is the base's business.
func parseComponent(it httpsfv.Item) (component, error) {
	name, ok := it.Value.(string)
	if !ok {
		return component{}, fail(ReasonMalformedInput, "a covered component is not a string")
	}
	if name == "" || strings.ToLower(name) != name {
		return component{}, fail(ReasonMalformedInput, "covered component %q is not a lowercase name", name)
	}
	if name == "@signature-params" {
		return component{}, fail(ReasonMalformedInput, "@signature-params cannot be covered")
	}
	id, err := marshal(it)
	if err != nil {
		return component{}, fail(ReasonMalformedInput, "covered component %q does not serialize", name)
	}
	c := component{id: id, name: name}
	for _, p := range it.Params.Names() {
		v, _ := it.Params.Get(p)
		switch p {
		case "sf", "bs", "req", "tr":
			if v != true {
				return component{}, fail(ReasonMalformedInput, "component %s: parameter %s must be a bare flag", id, p)
			}
			switch p {
			case "sf":
				c.sf = true
			case "bs":
				c.bs = true
			case "req":
				c.req = true
			case "tr":
				c.tr = true
			}
		case "key", "name":
			s, ok := v.(string)
			if !ok {
				return component{}, fail(ReasonMalformedInput, "component %s: parameter %s must be a string", id, p)
			}
			if p == "key" {
				c.key, c.hasKey = s, true
			} else {
				c.qname, c.hasName = s, true
			}
		default:
			return component{}, fail(ReasonMalformedInput, "component %s: unknown parameter %q", id, p)
		}
	}
	switch {
	case c.derived() && !derivedNames[name]:
		// Unknown derived components are refused when the base is built,
		// as RFC 9421 §2.5 says; a name that could never be computed is
		// refused here.
		return component{}, fail(ReasonMalformedInput, "unknown derived component %q", name)
	case c.derived() && (c.sf || c.bs || c.hasKey || c.tr):
		return component{}, fail(ReasonMalformedInput, "component %s: sf, bs, key and tr apply to fields only", id)
	case c.hasName != (name == "@query-param"):
		return component{}, fail(ReasonMalformedInput, "component %s: @query-param needs a name parameter, and only it", id)
	case c.bs && (c.sf || c.hasKey):
		return component{}, fail(ReasonMalformedInput, "component %s: bs excludes sf and key (RFC 9421 §2.1.3)", id)
	}
	c.canon = c.canonical()
	return c, nil
}

// ParseComponent parses a component identifier as configured by an
// operator, in its serialized form (`"@query-param";name="id"`) or with the
// name unquoted (`@query-param;name="id"`, `content-digest`), and returns
// its canonical serialization. Field names are lowercased.
func ParseComponent(s string) (string, error) {
	c, err := componentOf(s)
	if err != nil {
		return "", err
	}
	return c.canonical(), nil
}

// componentOf parses a configured component identifier (ParseComponent);
// its id is the canonical serialization.
func componentOf(s string) (component, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, `"`) {
		name, params, _ := strings.Cut(s, ";")
		s = quote(strings.ToLower(name))
		if params != "" {
			s += ";" + params
		}
	}
	it, err := httpsfv.UnmarshalItem([]string{s})
	if err != nil {
		return component{}, fail(ReasonMalformedInput, "component %q is not a structured field item", s)
	}
	c, err := parseComponent(it)
	if err != nil {
		return component{}, err
	}
	c.id = c.canonical()
	return c, nil
}

// Params are a signature's parameters (RFC 9421 §2.3). Zero fields are
// absent from Signature-Input; they are serialized in the order created,
// expires, keyid, alg, nonce, tag.
type Params struct {
	Created time.Time `json:"created,omitzero"`
	Expires time.Time `json:"expires,omitzero"`
	KeyID   string    `json:"keyid,omitempty"`
	// Alg is the message's alg parameter: informative only. The key's
	// algorithm decides; a differing Alg is refused.
	Alg   Algorithm `json:"alg,omitempty"`
	Nonce string    `json:"nonce,omitempty"`
	Tag   string    `json:"tag,omitempty"`
}

// innerList builds the Signature-Input member of a signature over comps
// with params p.
func (p Params) innerList(comps []component) (httpsfv.InnerList, error) {
	il := httpsfv.InnerList{Params: httpsfv.NewParams()}
	for _, c := range comps {
		it, err := httpsfv.UnmarshalItem([]string{c.id})
		if err != nil {
			return il, err
		}
		il.Items = append(il.Items, it)
	}
	if !p.Created.IsZero() {
		il.Params.Add("created", p.Created.Unix())
	}
	if !p.Expires.IsZero() {
		il.Params.Add("expires", p.Expires.Unix())
	}
	for _, s := range []struct{ k, v string }{{"keyid", p.KeyID}, {"alg", string(p.Alg)}, {"nonce", p.Nonce}, {"tag", p.Tag}} {
		if s.v != "" {
			il.Params.Add(s.k, s.v)
		}
	}
	return il, nil
}

// sigInput is one parsed Signature-Input member.
type sigInput struct {
	label  string
	comps  []component
	params Params
	raw    string // the serialized member: the @signature-params value
}

// parseInputs bounds and parses the Signature-Input field.
func parseInputs(values []string, lim Limits) (*httpsfv.Dictionary, error) {
	if joinedLen(values) > lim.maxFieldBytes() {
		return nil, fail(ReasonTooLarge, "Signature-Input is longer than %d bytes", lim.maxFieldBytes())
	}
	d, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, fail(ReasonMalformedInput, "Signature-Input is not a structured dictionary")
	}
	if len(d.Names()) == 0 {
		return nil, fail(ReasonMissing, "Signature-Input is empty")
	}
	if len(d.Names()) > lim.maxSignatures() {
		return nil, fail(ReasonTooLarge, "Signature-Input has %d signatures, more than %d", len(d.Names()), lim.maxSignatures())
	}
	return d, nil
}

// parseInput reads the member m of Signature-Input labelled label.
func parseInput(label string, m httpsfv.Member, lim Limits) (sigInput, error) {
	in := sigInput{label: label}
	il, ok := m.(httpsfv.InnerList)
	if !ok {
		return in, fail(ReasonMalformedInput, "Signature-Input member is not an inner list")
	}
	if len(il.Items) > lim.maxComponents() {
		return in, fail(ReasonTooLarge, "%d covered components, more than %d", len(il.Items), lim.maxComponents())
	}
	seen := make(map[string]bool, len(il.Items))
	for _, it := range il.Items {
		c, err := parseComponent(it)
		if err != nil {
			return in, err
		}
		if seen[c.canonical()] {
			return in, fail(ReasonMalformedInput, "component %s is covered twice", c.id)
		}
		seen[c.canonical()] = true
		in.comps = append(in.comps, c)
	}
	for _, k := range il.Params.Names() {
		v, _ := il.Params.Get(k)
		switch k {
		case "created", "expires":
			n, ok := v.(int64)
			if !ok || n < 0 {
				return in, fail(ReasonMalformedInput, "parameter %s is not a non-negative integer", k)
			}
			if k == "created" {
				in.params.Created = time.Unix(n, 0).UTC()
			} else {
				in.params.Expires = time.Unix(n, 0).UTC()
			}
		case "keyid", "alg", "nonce", "tag":
			s, ok := v.(string)
			if !ok {
				return in, fail(ReasonMalformedInput, "parameter %s is not a string", k)
			}
			switch k {
			case "keyid":
				in.params.KeyID = s
			case "alg":
				in.params.Alg = Algorithm(s)
			case "nonce":
				in.params.Nonce = s
			case "tag":
				in.params.Tag = s
			}
		}
		// Other parameters are covered by @signature-params like these,
		// and mean nothing to this verifier (RFC 9421 §2.3).
	}
	raw, err := marshal(il)
	if err != nil {
		return in, fail(ReasonMalformedInput, "Signature-Input member does not serialize")
	}
	in.raw = raw
	return in, nil
}

// parseSignatures bounds and parses the Signature field.
func parseSignatures(values []string, lim Limits) (*httpsfv.Dictionary, error) {
	if joinedLen(values) > lim.maxFieldBytes() {
		return nil, fail(ReasonTooLarge, "Signature is longer than %d bytes", lim.maxFieldBytes())
	}
	d, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, fail(ReasonMalformedSignature, "Signature is not a structured dictionary")
	}
	if len(d.Names()) == 0 {
		return nil, fail(ReasonMissing, "Signature is empty")
	}
	if len(d.Names()) > lim.maxSignatures() {
		return nil, fail(ReasonTooLarge, "Signature has %d members, more than %d", len(d.Names()), lim.maxSignatures())
	}
	return d, nil
}

// signatureBytes returns the Byte Sequence of the Signature member label.
func signatureBytes(d *httpsfv.Dictionary, label string) ([]byte, error) {
	m, ok := d.Get(label)
	if !ok {
		return nil, fail(ReasonLabelNotFound, "Signature has no member %q", label)
	}
	it, ok := m.(httpsfv.Item)
	if !ok {
		return nil, fail(ReasonMalformedSignature, "Signature member %q is not a byte sequence", label)
	}
	b, ok := it.Value.([]byte)
	if !ok {
		return nil, fail(ReasonMalformedSignature, "Signature member %q is not a byte sequence", label)
	}
	return b, nil
}
