package gateway_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// External attestation services: Firebase App Check tokens (RS256, keys
// from a real JWKS server) and Approov tokens (HS256, the account secret).

const externalYAML = attestYAML + `
  - name: ext
    match: {path_prefix: /ext/}
    upstream: app
    policies:
      - attestation: {apps: [shop-ios, shop-android], external: [firebase, approov]}
  - name: ext-bound
    match: {path_prefix: /extbound/}
    upstream: app
    policies:
      - attestation: {apps: [shop-android], external: [approov-bound]}
  - name: ext-ios
    match: {path_prefix: /extios/}
    upstream: app
    policies:
      - attestation: {apps: [shop-ios], external: [approov, firebase], bind_authorization: true}
`

const externalAttestation = `
  external:
    firebase:
      type: firebase_app_check
      project_number: "123456789"
      jwks_url: ${FIREBASE_JWKS}
      apps:
        "1:123456789:ios:abc": shop-ios
        "1:123456789:android:def": shop-android
    approov:
      type: approov
      secret: ${APPROOV_SECRET}
      apps: {"*": shop-android}
    approov-bound:
      type: approov
      secret: ${APPROOV_SECRET}
      apps: {"*": shop-android}
      bind_authorization: true
`

const firebaseIss = "https://firebaseappcheck.googleapis.com/123456789"

// externalKeys are Google's App Check key (and one it never published)
// and the Approov account secret.
type externalKeys struct {
	google, rogue *token.Key
	secret        []byte
}

var extKeys = sync.OnceValue(func() *externalKeys {
	k := &externalKeys{secret: make([]byte, 64)}
	var err error
	if k.google, err = token.GenerateKey("RS256"); err != nil {
		panic(err)
	}
	if k.rogue, err = token.GenerateKey("RS256"); err != nil {
		panic(err)
	}
	_, _ = rand.Read(k.secret)
	return k
})

func startExternalEnv(t *testing.T, jwks *jwksServer) *attestEnv {
	t.Helper()
	yaml := strings.Replace(externalYAML, "  token_ttl: 5m\n", "  token_ttl: 5m\n"+externalAttestation, 1)
	return startAttestEnv(t, yaml, func(e *env) {
		e.vars["FIREBASE_JWKS"] = jwks.URL + "/v1/jwks"
		e.vars["APPROOV_SECRET"] = base64.StdEncoding.EncodeToString(extKeys().secret)
	})
}

func signWith(t *testing.T, k *token.Key, alg string, claims map[string]any) string {
	t.Helper()
	s, err := token.NewSigner(k, alg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// appCheck mints a Firebase App Check token as Google does, with edits.
func appCheck(t *testing.T, k *token.Key, edit func(map[string]any)) string {
	now := time.Now()
	c := map[string]any{
		"iss": firebaseIss, "sub": "1:123456789:ios:abc",
		"aud": []string{"projects/123456789", "projects/shop-prod"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return signWith(t, k, "RS256", c)
}

// approov mints an Approov token, with edits.
func approov(t *testing.T, secret []byte, edit func(map[string]any)) string {
	k, err := token.NewKey(secret, "", "HS256")
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"exp": float64(time.Now().Add(5*time.Minute).UnixMilli()) / 1000, "did": "ZGV2aWNlLTE=", "ip": "1.2.3.4"}
	if edit != nil {
		edit(c)
	}
	return signWith(t, k, "HS256", c)
}

// pay is Approov's binding of a header value.
func pay(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.StdEncoding.EncodeToString(h[:])
}

func TestExternalAttestation(t *testing.T) {
	keys := extKeys()
	pub, err := token.PublicJWKS(keys.google)
	if err != nil {
		t.Fatal(err)
	}
	jwks := newJWKSServer(t, pub)
	e := startExternalEnv(t, jwks)
	own, _ := e.iosToken("shop-ios", "2.3.1")
	other := make([]byte, 64)
	hs256WithGoogleKey := func() string {
		// An HS256 token keyed with Google's public JWK: a key confusion
		// attempt. It is routed to Approov, whose secret refuses it.
		return signWith(t, mustSecret(t, pub), "HS256", map[string]any{"iss": firebaseIss, "sub": "1:123456789:ios:abc", "aud": "projects/123456789", "exp": time.Now().Add(time.Hour).Unix()})
	}
	tests := []struct {
		name   string
		path   string
		tok    string
		header map[string]string
		status int
		reason string
	}{
		{"own token", "/ext/x", own.Token, nil, 200, ""},
		{"App Check", "/ext/x", appCheck(t, keys.google, nil), nil, 200, ""},
		{"App Check, Android app", "/ext/x", appCheck(t, keys.google, func(c map[string]any) { c["sub"] = "1:123456789:android:def" }), nil, 200, ""},
		{"App Check of an unmapped app", "/ext/x", appCheck(t, keys.google, func(c map[string]any) { c["sub"] = "1:123456789:web:zzz" }), nil, 403, "attestation.wrong_app"},
		{"App Check for another project", "/ext/x", appCheck(t, keys.google, func(c map[string]any) {
			c["iss"] = "https://firebaseappcheck.googleapis.com/999"
			c["aud"] = []string{"projects/999"}
		}), nil, 401, "attestation.invalid"},
		{"App Check for another audience", "/ext/x", appCheck(t, keys.google, func(c map[string]any) { c["aud"] = []string{"projects/999"} }), nil, 401, "attestation.invalid"},
		{"App Check expired", "/ext/x", appCheck(t, keys.google, func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}), nil, 401, "attestation.expired"},
		{"App Check by a key Google never published", "/ext/x", appCheck(t, keys.rogue, nil), nil, 401, "attestation.invalid"},
		{"App Check with a blocked version", "/ext/x", appCheck(t, keys.google, func(c map[string]any) { c["ver"] = "2.1.3" }), nil, 403, "attestation.version_blocked"},
		{"App Check cannot be bound", "/extios/x", appCheck(t, keys.google, nil), map[string]string{"Authorization": "Bearer alice"}, 401, "attestation.binding_mismatch"},
		{"HS256 keyed with Google's public key", "/ext/x", hs256WithGoogleKey(), nil, 401, "attestation.invalid"},
		{"Approov", "/ext/x", approov(t, keys.secret, nil), nil, 200, ""},
		{"Approov, other secret", "/ext/x", approov(t, other, nil), nil, 401, "attestation.invalid"},
		{"Approov expired", "/ext/x", approov(t, keys.secret, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), nil, 401, "attestation.expired"},
		{"Approov without exp", "/ext/x", approov(t, keys.secret, func(c map[string]any) { delete(c, "exp") }), nil, 401, "attestation.invalid"},
		{"Approov for another app", "/extios/x", approov(t, keys.secret, func(c map[string]any) { c["pay"] = pay("Bearer alice") }), map[string]string{"Authorization": "Bearer alice"}, 403, "attestation.wrong_app"},
		{"Approov bound, matching", "/extbound/x", approov(t, keys.secret, func(c map[string]any) { c["pay"] = pay("Bearer alice") }), map[string]string{"Authorization": "Bearer alice"}, 200, ""},
		{"Approov bound, other session", "/extbound/x", approov(t, keys.secret, func(c map[string]any) { c["pay"] = pay("Bearer alice") }), map[string]string{"Authorization": "Bearer mallory"}, 401, "attestation.binding_mismatch"},
		{"Approov bound, no Authorization", "/extbound/x", approov(t, keys.secret, func(c map[string]any) { c["pay"] = pay("") }), nil, 401, "attestation.binding_mismatch"},
		{"Approov without pay where binding is required", "/extbound/x", approov(t, keys.secret, nil), map[string]string{"Authorization": "Bearer alice"}, 401, "attestation.binding_mismatch"},
		{"Approov with a pay claim is always checked", "/ext/x", approov(t, keys.secret, func(c map[string]any) { c["pay"] = pay("Bearer alice") }), map[string]string{"Authorization": "Bearer bob"}, 401, "attestation.binding_mismatch"},
		{"Approov pay, base64url instead of base64", "/extbound/x", approov(t, keys.secret, func(c map[string]any) {
			c["pay"] = strings.NewReplacer("+", "-", "/", "_").Replace(pay("Bearer alice/+?"))
		}), map[string]string{"Authorization": "Bearer alice/+?"}, 401, "attestation.binding_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits(e.up)
			resp := e.api(tt.path, tt.tok, tt.header)
			if tt.status == 200 {
				if resp.StatusCode != 200 || hits(e.up) != before+1 {
					t.Fatalf("status %d: want forwarded", resp.StatusCode)
				}
				return
			}
			wantProblem(t, resp, tt.status, tt.reason)
			if hits(e.up) != before {
				t.Error("a refused request reached the upstream")
			}
		})
	}
	if n := jwks.hits.Load(); n < 1 {
		t.Errorf("the App Check JWKS was fetched %d times", n)
	}
}

// Google's keys cannot be fetched: App Check tokens are refused as
// unavailable (503), never accepted; Approov is unaffected.
func TestExternalAttestationKeysUnavailable(t *testing.T) {
	jwks := newJWKSServer(t, nil)
	jwks.status.Store(http.StatusInternalServerError)
	e := startExternalEnv(t, jwks)
	wantProblem(t, e.api("/ext/x", appCheck(t, extKeys().google, nil), nil), 503, "attestation.unavailable")
	if s := e.api("/ext/x", approov(t, extKeys().secret, nil), nil).StatusCode; s != 200 {
		t.Fatalf("Approov while Google's keys are down: %d", s)
	}
}

// mustSecret turns bytes into an HMAC key.
func mustSecret(t *testing.T, b []byte) *token.Key {
	k, err := token.NewKey(b, "", "HS256")
	if err != nil {
		t.Fatal(err)
	}
	return k
}
