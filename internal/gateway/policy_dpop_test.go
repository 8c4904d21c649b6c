package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// asIssuer is an authorization server whose access tokens the gateway
// trusts, bound to DPoP keys (cnf.jkt) or not.
type asIssuer struct {
	signer *token.Signer
	file   string // its public JWKS
}

func newASIssuer(t *testing.T) *asIssuer {
	t.Helper()
	k, err := token.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(k, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := token.PublicJWKS(k)
	if err != nil {
		t.Fatal(err)
	}
	return &asIssuer{signer: s, file: writeFile(t, "as.jwks.json", jwks)}
}

// token mints an access token, bound to jkt when it is not empty.
func (a *asIssuer) token(t *testing.T, jkt string) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": "https://as.test", "aud": "https://api.test", "sub": "user-1", "scope": "orders",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if jkt != "" {
		c["cnf"] = map[string]any{"jkt": jkt}
	}
	tok, err := a.signer.Sign(c, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func dpopYAML(as *asIssuer) string {
	route := func(name, jwt, dpop string) string {
		return fmt.Sprintf(`
  - name: %s
    match: {path_prefix: /%s/}
    upstream: app
    policies:
      - jwt: {issuers: [as]%s}%s`, name, name, jwt, dpop)
	}
	return `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
issuers:
  as:
    issuer: https://as.test
    jwks_file: ` + as.file + `
    algorithms: [ES256]
    audiences: [https://api.test]
routes:` +
		route("api", ", schemes: [DPoP]", "\n      - dpop: {}") +
		route("nonce", ", schemes: [DPoP]", "\n      - dpop: {nonce: {lifetime: 1m}}") +
		route("eddsa", ", schemes: [DPoP]", "\n      - dpop: {algorithms: [EdDSA]}") +
		route("mixed", ", schemes: [Bearer, DPoP]", "\n      - dpop: {}") +
		route("bearer", "", "") + "\n"
}

// TestDPoP: every refusal of the dpop layer through a gateway, with its
// reason, status and challenge; a DPoP-bound token sent as a bearer token
// is refused by the jwt layer (RFC 9449 §7.2); good proofs pass once.
func TestDPoP(t *testing.T) {
	as := newASIssuer(t)
	e := startEnv(t, dpopYAML(as))
	key, _ := dpoptest.NewKey("ES256")
	other, _ := dpoptest.NewKey("EdDSA")
	at := as.token(t, key.JKT)
	unbound := as.token(t, "")
	uri := func(path string) string { return "http://" + e.addr + path }
	auth := func(scheme, tok, proof string) map[string]string {
		h := map[string]string{"Authorization": scheme + " " + tok}
		if proof != "" {
			h["DPoP"] = proof
		}
		return h
	}
	proof := func(c dpoptest.Claims) string {
		if c.Method == "" {
			c.Method = "GET"
		}
		if c.URI == "" {
			c.URI = uri("/api/orders")
		}
		if c.AccessToken == "" {
			c.AccessToken = at
		}
		return key.ProofWith(c, nil)
	}
	withHeader := func(h map[string]any) string {
		return key.ProofWith(dpoptest.Claims{Method: "GET", URI: uri("/api/orders"), AccessToken: at}, h)
	}
	good := proof(dpoptest.Claims{})
	wantOK(t, e.do("GET", "/api/orders?page=2", auth("DPoP", at, good), ""))
	if got := e.up.last(t).Header.Get("Authorization"); got != "DPoP "+at {
		t.Errorf("the upstream got Authorization %q", got)
	}
	// An EdDSA key, a proof for a POST with a body, the lower-case scheme.
	edAT := as.token(t, other.JKT)
	wantOK(t, e.do("POST", "/api/orders", auth("dpop", edAT, other.ProofWith(dpoptest.Claims{Method: "POST", URI: uri("/api/orders"), AccessToken: edAT}, nil)), `{"a":1}`))

	for _, tc := range []struct {
		name   string
		path   string
		header map[string]string
		status int
		reason string
		auth   string // WWW-Authenticate prefix
	}{
		{"no proof", "/api/orders", auth("DPoP", at, ""), 401, "dpop.missing", `DPoP algs="ES256 EdDSA"`},
		{"proof too large", "/api/orders", auth("DPoP", at, good+strings.Repeat("A", 9<<10)), 401, "dpop.too_large", `DPoP error="invalid_dpop_proof"`},
		{"not a JWS", "/api/orders", auth("DPoP", at, "a.b"), 401, "dpop.malformed", `DPoP error="invalid_dpop_proof"`},
		{"typ JWT", "/api/orders", auth("DPoP", at, withHeader(map[string]any{"typ": "JWT"})), 401, "dpop.bad_type", ""},
		{"ES256 where only EdDSA is allowed", "/eddsa/orders", auth("DPoP", at, proof(dpoptest.Claims{URI: uri("/eddsa/orders")})), 401, "dpop.alg_not_allowed", `DPoP error="invalid_dpop_proof", algs="EdDSA"`},
		{"kid instead of the key", "/api/orders", auth("DPoP", at, withHeader(map[string]any{"jwk": nil, "kid": "k1"})), 401, "dpop.bad_key", ""},
		{"another key's jwk", "/api/orders", auth("DPoP", at, withHeader(map[string]any{"jwk": other.JWK, "alg": "EdDSA"})), 401, "dpop.invalid_signature", ""},
		{"no htu", "/api/orders", auth("DPoP", at, key.Sign(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": key.JWK}, map[string]any{"jti": "j", "htm": "GET", "iat": time.Now().Unix()})), 401, "dpop.missing_claim", ""},
		{"made for POST", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{Method: "POST"})), 401, "dpop.method_mismatch", ""},
		{"made for another path", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{URI: uri("/api/admin")})), 401, "dpop.uri_mismatch", ""},
		{"made for https", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{URI: "https://" + e.addr + "/api/orders"})), 401, "dpop.uri_mismatch", ""},
		{"no nonce where one is required", "/nonce/orders", auth("DPoP", at, proof(dpoptest.Claims{URI: uri("/nonce/orders")})), 401, "dpop.use_nonce", `DPoP error="use_dpop_nonce"`},
		{"iat in two minutes", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{IAT: time.Now().Add(2 * time.Minute)})), 401, "dpop.iat_in_future", ""},
		{"iat two minutes ago", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{IAT: time.Now().Add(-2 * time.Minute)})), 401, "dpop.too_old", ""},
		{"ath of another token", "/api/orders", auth("DPoP", at, proof(dpoptest.Claims{AccessToken: unbound})), 401, "dpop.ath_mismatch", `DPoP error="invalid_token"`},
		{"the token of another key", "/api/orders", auth("DPoP", edAT, key.ProofWith(dpoptest.Claims{Method: "GET", URI: uri("/api/orders"), AccessToken: edAT}, nil)), 401, "dpop.key_mismatch", `DPoP error="invalid_token"`},
		{"unbound token with the DPoP scheme", "/api/orders", auth("DPoP", unbound, proof(dpoptest.Claims{AccessToken: unbound})), 401, "dpop.unbound", `DPoP error="invalid_token"`},
		{"unbound bearer token where DPoP is required", "/mixed/orders", auth("Bearer", unbound, proof(dpoptest.Claims{URI: uri("/mixed/orders")})), 401, "dpop.unbound", ""},
		{"bound token as a bearer token", "/bearer/orders", auth("Bearer", at, ""), 401, "jwt.dpop_bound", `DPoP realm="drawbridge", error="invalid_token"`},
		{"bound token as a bearer token with a proof", "/mixed/orders", auth("Bearer", at, proof(dpoptest.Claims{URI: uri("/mixed/orders")})), 401, "jwt.dpop_bound", ""},
		{"DPoP scheme where only Bearer is accepted", "/bearer/orders", auth("DPoP", at, good), 401, "jwt.missing", `Bearer realm="drawbridge"`},
		{"no token where only DPoP is accepted", "/api/orders", nil, 401, "jwt.missing", `DPoP realm="drawbridge"`},
		{"replayed", "/api/orders", auth("DPoP", at, good), 401, "dpop.replayed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.up.hits.Load()
			resp := e.do("GET", tc.path, tc.header, "")
			wantRefused(t, e, resp, before, tc.status, tc.reason)
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.auth) {
				t.Errorf("WWW-Authenticate = %q, want %q...", got, tc.auth)
			}
		})
	}
	// A route that accepts both schemes offers both challenges.
	resp := e.do("GET", "/mixed/orders", nil, "")
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 2 || got[0] != `Bearer realm="drawbridge"` || got[1] != `DPoP realm="drawbridge"` {
		t.Errorf("WWW-Authenticate = %q, want a Bearer and a DPoP challenge", got)
	}
}

// TestDPoPNonce: a route that requires server nonces answers a proof
// without one with a nonce to use; the retry with it passes; a forged
// nonce does not.
func TestDPoPNonce(t *testing.T) {
	as := newASIssuer(t)
	e := startEnv(t, dpopYAML(as))
	key, _ := dpoptest.NewKey("ES256")
	at := as.token(t, key.JKT)
	u := "http://" + e.addr + "/nonce/orders"
	req := func(nonce string) *http.Response {
		p := key.ProofWith(dpoptest.Claims{Method: "GET", URI: u, AccessToken: at, Nonce: nonce}, nil)
		return e.do("GET", "/nonce/orders", map[string]string{"Authorization": "DPoP " + at, "DPoP": p}, "")
	}
	first := req("")
	nonce := first.Header.Get("DPoP-Nonce")
	if first.StatusCode != 401 || nonce == "" {
		t.Fatalf("status %d, DPoP-Nonce %q", first.StatusCode, nonce)
	}
	wantOK(t, req(nonce))
	before := e.up.hits.Load()
	wantRefused(t, e, req(strings.ToUpper(nonce)), before, 401, "dpop.use_nonce")
}

// TestDPoPStoreDown: with the replay guard's store down, proofs are
// refused (503) without a challenge.
func TestDPoPStoreDown(t *testing.T) {
	as := newASIssuer(t)
	e := startEnv(t, dpopYAML(as), withFailingHot(t))
	key, _ := dpoptest.NewKey("ES256")
	at := as.token(t, key.JKT)
	p := key.ProofWith(dpoptest.Claims{Method: "GET", URI: "http://" + e.addr + "/api/x", AccessToken: at}, nil)
	before := e.up.hits.Load()
	resp := e.do("GET", "/api/x", map[string]string{"Authorization": "DPoP " + at, "DPoP": p}, "")
	wantRefused(t, e, resp, before, 503, "dpop.unavailable")
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Error("a store failure answered with a challenge")
	}
}
