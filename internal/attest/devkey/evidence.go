package devkey

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Evidence is what the app sends for development attestation
// (docs/protocol.md, "Development attestation"), decoded.
type Evidence struct {
	// Chain is the device certificate chain, DER, device certificate
	// first; the CA need not be included.
	Chain [][]byte
	// Signature is the device key's ECDSA P-256 SHA-256 signature over
	// client_data_hash, ASN.1 DER.
	Signature []byte
}

// MaxEvidenceJSON caps the JSON ParseEvidence reads: four certificates of
// MaxCertSize in base64 and a signature fit with room to spare.
const MaxEvidenceJSON = 64 << 10

// evidenceJSON is the wire form: the members of the exchange request
// that carry the evidence.
type evidenceJSON struct {
	CertificateChain []string `json:"certificate_chain"`
	Signature        string   `json:"signature"`
}

// MarshalJSON writes the evidence as the protocol's members:
// certificate_chain (standard base64 DER, as the platforms print
// certificates) and signature (base64url without padding, the
// protocol's default for binary values).
func (e Evidence) MarshalJSON() ([]byte, error) {
	w := evidenceJSON{CertificateChain: make([]string, len(e.Chain)), Signature: base64.RawURLEncoding.EncodeToString(e.Signature)}
	for i, c := range e.Chain {
		w.CertificateChain[i] = base64.StdEncoding.EncodeToString(c)
	}
	return json.Marshal(w)
}

// ParseEvidence reads the JSON MarshalJSON writes: an object with exactly
// certificate_chain and signature, each member once. It refuses input
// over MaxEvidenceJSON, unknown or repeated members, and values that are
// not canonical base64 of their kind. Decoding is all it does: the size
// limits on the decoded chain and the certificates themselves are
// Verify's.
func ParseEvidence(b []byte) (Evidence, error) {
	if len(b) > MaxEvidenceJSON {
		return Evidence{}, errors.New("devkey: evidence JSON too large")
	}
	if err := exactMembers(b); err != nil {
		return Evidence{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w evidenceJSON
	if err := dec.Decode(&w); err != nil {
		return Evidence{}, fmt.Errorf("devkey: evidence: %v", err)
	}
	if dec.More() {
		return Evidence{}, errors.New("devkey: evidence: data after the object")
	}
	return DecodeEvidence(w.CertificateChain, w.Signature)
}

// DecodeEvidence decodes the protocol's members, as a request decoder
// that reads them itself hands them over: the chain in standard base64
// (padded), the signature in base64url without padding.
func DecodeEvidence(chain []string, signature string) (Evidence, error) {
	if len(chain) > MaxChainLength {
		return Evidence{}, fmt.Errorf("devkey: more than %d certificates", MaxChainLength)
	}
	var e Evidence
	for i, s := range chain {
		c, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || strings.ContainsAny(s, "\r\n") {
			return Evidence{}, fmt.Errorf("devkey: certificate_chain[%d] is not standard base64", i)
		}
		e.Chain = append(e.Chain, c)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(signature)
	if err != nil || strings.ContainsAny(signature, "\r\n") {
		return Evidence{}, errors.New("devkey: signature is not base64url without padding")
	}
	e.Signature = sig
	return e, nil
}

// exactMembers refuses a top-level object that names a member twice
// (encoding/json keeps the last copy, another parser the first) or names
// one that is not exactly certificate_chain or signature (encoding/json
// would match "SIGNATURE" to the field, case-insensitively).
func exactMembers(b []byte) error {
	notObject := errors.New("devkey: evidence is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return notObject
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notObject
		}
		name, _ := tok.(string)
		switch {
		case name != "certificate_chain" && name != "signature":
			return errors.New("devkey: evidence has a member other than certificate_chain and signature")
		case seen[name]:
			return fmt.Errorf("devkey: evidence names %s twice", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return notObject
		}
	}
	return nil
}
