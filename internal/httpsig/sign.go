package httpsig

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dunglas/httpsfv"
)

// DefaultLabel is the label of a Signer with none.
const DefaultLabel = "sig1"

// Signer signs HTTP messages (RFC 9421 §3.1): the same signature base as
// Verifier rebuilds, so that what one signs the other accepts.
type Signer struct {
	// Key signs. Required.
	Key SigningKey
	// KeyID is the keyid parameter; a Verifier requires one. Empty omits
	// it.
	KeyID string
	// Label is the signature's label. If empty, DefaultLabel.
	Label string
	// Components are the covered components in order, as component
	// identifiers (see ParseComponent). If nil: @method, @authority,
	// @path and @query of a request, @status of a response, and
	// content-digest when the message has a body.
	Components []string
	// IncludeAlg adds the alg parameter.
	IncludeAlg bool
	// Tag is the tag parameter. Empty omits it.
	Tag string
	// Validity, if positive, sets expires to created plus Validity.
	Validity time.Duration
	// Nonce adds a random nonce (130 bits), for a verifier's replay
	// guard.
	Nonce bool
	// StructuredFields add field types for the sf parameter; lowercase
	// names.
	StructuredFields map[string]FieldType
	// Now returns the signing time. If nil, time.Now.
	Now func() time.Time
}

// Signed is a signature ready to be sent. Input and Signature are
// Dictionary members: send them as a Signature-Input and a Signature field
// line (lines of a field join, so other signatures can sit beside them).
type Signed struct {
	// Label is the signature's label.
	Label string
	// Input is the Signature-Input member, `label=(...);created=...`.
	Input string
	// Signature is the Signature member, `label=:...:`.
	Signature string
	// ContentDigest, when not empty, is a Content-Digest field value that
	// Sign computed because the signature covers content-digest and the
	// message had none: send it too.
	ContentDigest string
	// Base is the signature base that was signed.
	Base []byte
}

// Sign signs msg now, with the parameters the Signer's fields describe.
func (s *Signer) Sign(msg Message) (Signed, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	p := Params{Created: now().Truncate(time.Second), KeyID: s.KeyID, Tag: s.Tag}
	if s.Validity > 0 {
		p.Expires = p.Created.Add(s.Validity)
	}
	if s.IncludeAlg {
		p.Alg = s.Key.Algorithm
	}
	if s.Nonce {
		p.Nonce = rand.Text()
	}
	return s.SignParams(msg, p)
}

// SignParams signs msg with exactly the parameters p: the Signer's KeyID,
// IncludeAlg, Tag, Validity, Nonce and Now do not apply. It reproduces a
// known signature, such as RFC 9421's deterministic examples.
func (s *Signer) SignParams(msg Message, p Params) (Signed, error) {
	if p.Alg != "" && p.Alg != s.Key.Algorithm {
		return Signed{}, fmt.Errorf("httpsig: alg %q is not the key's algorithm %q", p.Alg, s.Key.Algorithm)
	}
	label := s.Label
	if label == "" {
		label = DefaultLabel
	}
	comps, err := s.components(msg)
	if err != nil {
		return Signed{}, err
	}
	out := Signed{Label: label}
	if slices.ContainsFunc(comps, func(c component) bool { return c.name == "content-digest" && !c.req }) &&
		len(values(msg.fields(), "content-digest")) == 0 {
		out.ContentDigest, _ = ContentDigest(DigestSHA256, msg.body())
		msg = msg.withField(Field{"Content-Digest", out.ContentDigest})
	}
	il, err := p.innerList(comps)
	if err != nil {
		return Signed{}, fmt.Errorf("httpsig: %w", err)
	}
	raw, err := marshal(il)
	if err != nil {
		return Signed{}, fmt.Errorf("httpsig: signature parameters: %w", err)
	}
	base, err := baseBuilder{types: s.StructuredFields}.build(msg, comps, raw)
	if err != nil {
		return Signed{}, err
	}
	sig, err := s.Key.sign(base)
	if err != nil {
		return Signed{}, err
	}
	in := httpsfv.NewDictionary()
	in.Add(label, il)
	if out.Input, err = marshal(in); err != nil {
		return Signed{}, fmt.Errorf("httpsig: label %q is not a structured field key", label)
	}
	sd := httpsfv.NewDictionary()
	sd.Add(label, httpsfv.NewItem(sig))
	if out.Signature, err = marshal(sd); err != nil {
		return Signed{}, fmt.Errorf("httpsig: label %q is not a structured field key", label)
	}
	out.Base = base
	return out, nil
}

// components parses the Signer's components, or picks the defaults.
func (s *Signer) components(msg Message) ([]component, error) {
	ids := s.Components
	if ids == nil {
		ids = []string{"@method", "@authority", "@path", "@query"}
		if msg.isResponse() {
			ids = []string{"@status"}
		}
		if msg.hasBody() {
			ids = append(ids, "content-digest")
		}
	}
	comps := make([]component, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		c, err := componentOf(id)
		if err != nil {
			return nil, err
		}
		if seen[c.id] {
			return nil, errors.New("httpsig: component " + c.id + " is listed twice")
		}
		seen[c.id] = true
		comps = append(comps, c)
	}
	return comps, nil
}

// withField returns msg with f added to its own fields; msg is not
// modified.
func (m Message) withField(f Field) Message {
	if m.Response != nil {
		r := *m.Response
		r.Fields = append(slices.Clip(r.Fields), f)
		m.Response = &r
		return m
	}
	if m.Request != nil {
		r := *m.Request
		r.Fields = append(slices.Clip(r.Fields), f)
		m.Request = &r
	}
	return m
}
