package service

import (
	"bytes"
	"crypto"
	"encoding/base64"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// maxClientData bounds the client data: two base64url values of 43 bytes
// and the JSON around them.
const maxClientData = 256

// ClientData is the parsed client data (docs/protocol.md §2).
type ClientData struct {
	Challenge string
	JKT       string
	Raw       []byte
}

// ParseClientData reads the client data, which must be exactly
// {"challenge":"<challenge>","jkt":"<jkt>"} with base64url values: one
// byte sequence per meaning, so the hash the platform attested has one
// reading.
func ParseClientData(raw []byte) (*ClientData, error) {
	if len(raw) > maxClientData {
		return nil, fail(ReasonBadRequest, "client data too long")
	}
	const pre, mid, post = `{"challenge":"`, `","jkt":"`, `"}`
	if !bytes.HasPrefix(raw, []byte(pre)) || !bytes.HasSuffix(raw, []byte(post)) {
		return nil, fail(ReasonBadRequest, `client data must be {"challenge":"...","jkt":"..."}`)
	}
	inner := raw[len(pre) : len(raw)-len(post)]
	i := bytes.Index(inner, []byte(mid))
	if i < 0 {
		return nil, fail(ReasonBadRequest, `client data must be {"challenge":"...","jkt":"..."}`)
	}
	cd := &ClientData{Challenge: string(inner[:i]), JKT: string(inner[i+len(mid):]), Raw: raw}
	for _, v := range []string{cd.Challenge, cd.JKT} {
		if b, err := base64.RawURLEncoding.Strict().DecodeString(v); err != nil || len(b) != 32 {
			return nil, fail(ReasonBadRequest, "client data values must be 32 bytes, base64url without padding")
		}
	}
	return cd, nil
}

// FormatClientData returns the client data for a challenge and key
// thumbprint, as apps must form it.
func FormatClientData(challenge, jkt string) []byte {
	return []byte(`{"challenge":"` + challenge + `","jkt":"` + jkt + `"}`)
}

// checkSigningKey parses the request-signing key's public JWK and checks
// that its thumbprint is the one the client data names.
func checkSigningKey(jwk []byte, cd *ClientData) (crypto.PublicKey, error) {
	if len(jwk) == 0 {
		return nil, fail(ReasonBadRequest, "signing_key is required")
	}
	k, err := token.ParseJWK(jwk)
	if err != nil || k.HasPrivate() || k.Public() == nil {
		return nil, fail(ReasonBadRequest, "signing_key must be a public JWK")
	}
	return matchKey(k.Public(), cd)
}

func matchKey(pub crypto.PublicKey, cd *ClientData) (crypto.PublicKey, error) {
	jkt, err := token.Thumbprint(pub)
	if err != nil {
		return nil, fail(ReasonBadRequest, "unsupported signing key: %v", err)
	}
	if jkt != cd.JKT {
		return nil, fail(ReasonKeyMismatch, "the client data names another key")
	}
	return pub, nil
}

// installID is the stable id of an attested key: base64url of its bytes.
func installID(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
