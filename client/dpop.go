package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// dpopProof returns a DPoP proof (RFC 9449 §4.2) by K for r: typ
// dpop+jwt, ES256, K's public JWK in the header; a fresh jti, htm, htu
// (the URI without query and fragment, §4.3), iat; ath, the hash of the
// access token, when r carries one in Authorization (Bearer or DPoP
// scheme, §4.2); and the gateway's latest nonce when it asked for nonces
// (§8).
func (t *Transport) dpopProof(r *http.Request, nonce string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	path, _, _ := strings.Cut(r.URL.RequestURI(), "?")
	claims := struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		ATH   string `json:"ath,omitempty"`
		Nonce string `json:"nonce,omitempty"`
	}{
		JTI: b64url.EncodeToString(jti[:]), HTM: r.Method,
		HTU: strings.ToLower(r.URL.Scheme) + "://" + requestHost(r) + path,
		IAT: now.Unix(), Nonce: nonce,
	}
	if tok := accessToken(r.Header.Get("Authorization")); tok != "" {
		sum := sha256.Sum256([]byte(tok))
		claims.ATH = b64url.EncodeToString(sum[:])
	}
	header := struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		JWK jwk    `json:"jwk"`
	}{"dpop+jwt", "ES256", t.key.jwk}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64url.EncodeToString(hb) + "." + b64url.EncodeToString(pb)
	sig, err := t.key.signRaw([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

// accessToken returns the token of a Bearer or DPoP Authorization value
// (schemes are case-insensitive), or "".
func accessToken(authz string) string {
	scheme, tok, ok := strings.Cut(authz, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) {
		return ""
	}
	return strings.TrimSpace(tok)
}
