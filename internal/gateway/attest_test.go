package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey/androidkeytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The whole flow through real HTTP: challenge, App Attest exchange, API
// call, assertion refresh, Android exchange; the JWKS the gateway
// publishes verifies its tokens.
func TestAttestationFlow(t *testing.T) {
	e := startAttestEnv(t, "")
	is, in := e.iosToken("shop-ios", "2.3.1")
	if is.ExpiresIn != 300 {
		t.Errorf("expires_in %d, want 300", is.ExpiresIn)
	}
	resp := e.api("/api/orders", is.Token, nil)
	if resp.StatusCode != http.StatusOK || hits(e.up) != 1 {
		t.Fatalf("API call with a fresh token: %d", resp.StatusCode)
	}

	// Assertion refresh.
	is2 := e.exchange("/v1/attest/apple-assertion", e.assertionBody("shop-ios", in, 1, "2.3.1"), nil)
	if is2.InstallID != is.InstallID {
		t.Errorf("refresh install %s, want %s", is2.InstallID, is.InstallID)
	}
	// A replay of the counter: the format's reason, 403.
	resp, _ = e.post("/v1/attest/apple-assertion", e.assertionBody("shop-ios", in, 1, "2.3.1"), nil)
	wantProblem(t, resp, http.StatusForbidden, "appattest.counter_not_increased")

	// Android, in its own header.
	ia := e.exchange("/v1/attest/android", e.androidBody("shop-android", nil), nil)
	if resp := e.api("/android/x", "", map[string]string{"X-App-Token": ia.Token}); resp.StatusCode != http.StatusOK {
		t.Fatalf("Android token on its route: %d", resp.StatusCode)
	}

	// The JWKS.
	resp = e.do(http.MethodGet, "/.well-known/jwks.json", nil, "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	set, err := token.ParseJWKS(body)
	if err != nil || set.Len() != 1 {
		t.Fatalf("jwks: %v", err)
	}
	resp = e.do(http.MethodHead, "/.well-known/jwks.json", nil, "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD jwks: %d", resp.StatusCode)
	}
}

func TestAttestationEndpointRefusals(t *testing.T) {
	e := startAttestEnv(t, "")
	valid, _ := e.appleBody("shop-ios", appattesttest.Production, "2.3.1")
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header map[string]string
		status int
		reason string
	}{
		{"GET challenge", http.MethodGet, "/v1/attest/challenge", "", nil, 405, "route.method_not_allowed"},
		{"POST jwks", http.MethodPost, "/.well-known/jwks.json", "{}", nil, 405, "route.method_not_allowed"},
		{"malformed JSON", http.MethodPost, "/v1/attest/challenge", `{"app":`, nil, 400, "attestation.bad_request"},
		{"trailing data", http.MethodPost, "/v1/attest/challenge", `{"app":"shop-ios"} {}`, nil, 400, "attestation.bad_request"},
		{"unknown field", http.MethodPost, "/v1/attest/challenge", `{"app":"shop-ios","admin":true}`, nil, 400, "attestation.bad_request"},
		{"no app", http.MethodPost, "/v1/attest/challenge", `{}`, nil, 400, "attestation.bad_request"},
		{"not JSON", http.MethodPost, "/v1/attest/challenge", `app=shop-ios`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "attestation.bad_request"},
		{"oversized body", http.MethodPost, "/v1/attest/apple", `{"app":"shop-ios","attestation":"` + strings.Repeat("A", 70<<10) + `"}`, nil, 413, "request.body_too_large"},
		{"unknown app", http.MethodPost, "/v1/attest/challenge", `{"app":"nope"}`, nil, 400, "attestation.unknown_app"},
		{"platform not configured", http.MethodPost, "/v1/attest/apple", `{"app":"shop-android","client_data":"` + valid["client_data"].(string) + `"}`, nil, 403, "attestation.platform_not_allowed"},
		{"play not configured for the app", http.MethodPost, "/v1/attest/play", `{"app":"shop-ios","client_data":"` + valid["client_data"].(string) + `"}`, nil, 403, "attestation.platform_not_allowed"},
		{"client data not base64url", http.MethodPost, "/v1/attest/apple", `{"app":"shop-ios","client_data":"a+b/"}`, nil, 400, "attestation.bad_request"},
		{"bind without Authorization", http.MethodPost, "/v1/attest/apple", `{"app":"shop-ios","client_data":"` + valid["client_data"].(string) + `","bind_authorization":true}`, nil, 400, "attestation.bad_request"},
		{"unknown path under the prefix", http.MethodPost, "/v1/attest/nope", `{}`, nil, 404, "route.not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				h[k] = v
			}
			resp := e.do(tt.method, tt.path, h, tt.body)
			wantProblem(t, resp, tt.status, tt.reason)
			if tt.status == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	if hits(e.up) != 0 {
		t.Errorf("the upstream saw %d attestation requests", hits(e.up))
	}
}

func TestAttestationExchangeRefusals(t *testing.T) {
	e := startAttestEnv(t, "")
	t.Run("challenge reused", func(t *testing.T) {
		body, _ := e.appleBody("shop-ios", appattesttest.Production, "2.3.1")
		e.exchange("/v1/attest/apple", body, nil)
		resp, _ := e.post("/v1/attest/apple", body, nil)
		wantProblem(t, resp, 400, "attestation.challenge_invalid")
	})
	t.Run("signing key of another install", func(t *testing.T) {
		body, _ := e.appleBody("shop-ios", appattesttest.Production, "2.3.1")
		body["signing_key"] = newAppKey(t).jwk
		resp, _ := e.post("/v1/attest/apple", body, nil)
		wantProblem(t, resp, 400, "attestation.key_mismatch")
	})
	t.Run("development key for a production app", func(t *testing.T) {
		body, _ := e.appleBody("shop-ios", appattesttest.Development, "2.3.1")
		resp, _ := e.post("/v1/attest/apple", body, nil)
		wantProblem(t, resp, 403, "attestation.environment_not_allowed")
		body, _ = e.appleBody("shop-dev", appattesttest.Development, "")
		e.exchange("/v1/attest/apple", body, nil)
	})
	t.Run("version blocked", func(t *testing.T) {
		body, _ := e.appleBody("shop-ios", appattesttest.Production, "2.1.3")
		resp, _ := e.post("/v1/attest/apple", body, nil)
		wantProblem(t, resp, 403, "attestation.version_blocked")
	})
	t.Run("unknown device", func(t *testing.T) {
		_, in := e.appleBody("shop-ios", appattesttest.Production, "2.3.1")
		resp, _ := e.post("/v1/attest/apple-assertion", e.assertionBody("shop-ios", in, 1, "2.3.1"), nil)
		wantProblem(t, resp, 403, "attestation.unknown_device")
	})
	t.Run("unverified boot", func(t *testing.T) {
		body := e.androidBody("shop-android", func(a *androidkeytest.Attestation) { a.BootState = androidkey.Unverified })
		resp, _ := e.post("/v1/attest/android", body, nil)
		wantProblem(t, resp, 403, "androidkey.unverified_boot")
	})
	t.Run("forged root", func(t *testing.T) {
		body, _ := e.appleBody("shop-ios", appattesttest.Production, "2.3.1")
		att := appattesttest.NewAuthority().Attest(appattesttest.Attestation{TeamID: attTeam, BundleID: attBundle, ClientDataHash: []byte("x")})
		body["attestation"], body["key_id"] = att.ObjectBase64(), att.KeyIDBase64()
		resp, _ := e.post("/v1/attest/apple", body, nil)
		p := readProblem(t, resp)
		if resp.StatusCode != 403 || !strings.HasPrefix(p.Reason, "appattest.") {
			t.Fatalf("%d %s, want 403 appattest.*", resp.StatusCode, p.Reason)
		}
		// The problem names the reason, never the verifier's detail.
		b, _ := json.Marshal(p)
		if strings.Contains(string(b), "all failed checks") {
			t.Errorf("problem leaks detail: %s", b)
		}
	})
}

// The route-clash refusal: a route that would shadow an endpoint.
func TestAttestationRouteClash(t *testing.T) {
	yaml := strings.Replace(attestYAML, "match: {path_prefix: /api/}", "match: {path_prefix: /v1/}", 1)
	err := loadYAML(t, yaml)
	if err == nil || !strings.Contains(err.Error(), "matches the attestation endpoint /v1/attest/challenge") {
		t.Fatalf("config with /v1/ route: %v, want a clash refusal", err)
	}
	// With a prefix, the same route is fine, and the endpoints move.
	yaml = strings.Replace(yaml, "  issuer: https://gw.test\n", "  issuer: https://gw.test\n  prefix: /attest\n", 1)
	if err := loadYAML(t, yaml); err != nil {
		t.Fatalf("with attestation.prefix: %v", err)
	}
	yaml = strings.Replace(yaml, "match: {path_prefix: /v1/}", `match: {path: "/attest/.well-known/{rest...}"}`, 1)
	if err := loadYAML(t, yaml); err == nil || !strings.Contains(err.Error(), "/attest/.well-known/jwks.json") {
		t.Fatalf("a route over the prefixed JWKS: %v", err)
	}
}
