package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSignatureLabel is the label of the Transport's signatures.
const DefaultSignatureLabel = "sig1"

// signRequest adds an HTTP message signature (RFC 9421) by K to r, whose
// body is body: Content-Digest (RFC 9530) when there is a body, then
// Signature-Input and Signature. It covers what the gateway's signature
// layer requires by default (@method, @authority, @path, and
// content-digest with a body) and more: @query, so that no query can be
// added, and the attestation token and Authorization header, so that the
// signature vouches for the credentials it travels with. created and a
// nonce (for the gateway's replay guard) are always set; keyid is K's
// thumbprint, which the token's cnf.jkt names.
func (t *Transport) signRequest(r *http.Request, body []byte, now time.Time) error {
	target := r.URL.RequestURI() // what net/http sends as the request-target
	path, query, _ := strings.Cut(target, "?")
	comps := []component{
		{`"@method"`, r.Method},
		{`"@authority"`, normalizeAuthority(r.URL.Scheme, requestHost(r))},
		{`"@path"`, path},
		{`"@query"`, "?" + query},
	}
	if len(body) > 0 {
		sum := sha256.Sum256(body)
		r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		comps = append(comps, component{`"content-digest"`, r.Header.Get("Content-Digest")})
	} else {
		r.Header.Del("Content-Digest")
	}
	for _, name := range []string{t.header(), "Authorization"} {
		if vs := r.Header.Values(name); len(vs) > 0 {
			comps = append(comps, component{strconv.Quote(strings.ToLower(name)), fieldValue(vs)})
		}
	}

	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	ids := make([]string, len(comps))
	for i, c := range comps {
		ids[i] = c.id
	}
	params := "(" + strings.Join(ids, " ") + ");created=" + strconv.FormatInt(now.Unix(), 10) +
		`;keyid="` + t.key.jkt + `";nonce="` + b64url.EncodeToString(nonce[:]) + `"`
	if t.SignatureTag != "" {
		params += ";tag=" + strconv.Quote(t.SignatureTag)
	}

	// The signature base (RFC 9421 §2.5): one line per component, then
	// @signature-params, joined by LF with none at the end.
	var base strings.Builder
	for _, c := range comps {
		if strings.ContainsAny(c.value, "\r\n") {
			return errors.New("client: a signed component contains a line break")
		}
		base.WriteString(c.id + ": " + c.value + "\n")
	}
	base.WriteString(`"@signature-params": ` + params)
	sig, err := t.key.signRaw([]byte(base.String()))
	if err != nil {
		return err
	}
	label := t.signatureLabel()
	r.Header.Set("Signature-Input", label+"="+params)
	r.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

// component is a covered component's identifier, serialised, and value.
type component struct{ id, value string }

// fieldValue combines the lines of one field as RFC 9421 §2.1 does: each
// value stripped of leading and trailing whitespace, joined by ", ".
func fieldValue(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.Trim(v, " \t")
	}
	return strings.Join(out, ", ")
}

// requestHost is the Host net/http sends.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// normalizeAuthority lowercases the host and drops the scheme's default
// port (RFC 9421 §2.2.3), as the gateway does.
func normalizeAuthority(scheme, authority string) string {
	a := strings.ToLower(authority)
	host, port := a, ""
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.Contains(a[i:], "]") {
		host, port = a[:i], a[i+1:]
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return host
	}
	return a
}

func (t *Transport) signatureLabel() string {
	if t.SignatureLabel != "" {
		return t.SignatureLabel
	}
	return DefaultSignatureLabel
}

// validLabel reports whether s is a structured field key (RFC 8941
// §3.2): a label must be one.
func validLabel(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '*') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_-.*", c) >= 0) {
			return false
		}
	}
	return true
}

// validTag reports whether s can be a tag, an sf-string: printable ASCII.
// strconv.Quote then escapes exactly what RFC 8941 §3.3.3 escapes.
func validTag(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
