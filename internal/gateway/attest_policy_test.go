package gateway_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// claimsFor are the claims of a valid shop-ios token.
func claimsFor(app, install, ver, jkt string) service.Claims {
	return service.Claims{Subject: install, App: app, Version: ver, Platform: "apple", Environment: "production", Cnf: service.Confirmation{JKT: jkt}}
}

// eventually polls cond for up to a second: a run-time control applies on
// every node within one poll interval (500ms).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAttestationPolicy(t *testing.T) {
	durable := memory.NewDurable()
	e := startAttestEnv(t, "", func(e *env) { e.gwOpts.Durable = durable })
	now := time.Now()
	jkt := strings.Repeat("k", 43)
	good := mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "2.3.1", jkt), now, 5*time.Minute)
	tests := []struct {
		name   string
		path   string
		tok    string
		header map[string]string
		status int
		reason string
	}{
		{"valid", "/api/x", good, nil, 200, ""},
		{"missing", "/api/x", "", nil, 401, "attestation.missing"},
		{"twice", "/api/x", good, map[string]string{"X-Twice": "1"}, 401, "attestation.invalid"},
		{"garbage", "/api/x", "not.a.token", nil, 401, "attestation.invalid"},
		{"another issuer key", "/api/x", mint(t, e.keys.other, claimsFor("shop-ios", "install-1", "2.3.1", jkt), now, 5*time.Minute), nil, 401, "attestation.invalid"},
		{"expired", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "2.3.1", jkt), now.Add(-6*time.Minute), 5*time.Minute), nil, 401, "attestation.expired"},
		{"within the leeway", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "2.3.1", jkt), now.Add(-5*time.Minute-2*time.Second), 5*time.Minute), nil, 200, ""},
		{"wrong app", "/android/x", "", map[string]string{"X-App-Token": good}, 403, "attestation.wrong_app"},
		{"version blocked in config", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "2.1.3", jkt), now, time.Minute), nil, 403, "attestation.version_blocked"},
		{"below the minimum", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "1.9", jkt), now, time.Minute), nil, 403, "attestation.version_blocked"},
		{"no version where a minimum is set", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "", jkt), now, time.Minute), nil, 403, "attestation.version_blocked"},
		{"no bound key", "/api/x", mint(t, e.keys.issuer, claimsFor("shop-ios", "install-1", "2.3.1", ""), now, time.Minute), nil, 401, "attestation.invalid"},
		{"an access token of the same key", "/api/x", accessToken(t, e), nil, 401, "attestation.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits(e.up)
			var resp *http.Response
			if tt.header["X-Twice"] != "" {
				req, _ := http.NewRequest(http.MethodGet, e.base+tt.path, nil)
				req.Header.Add("Attestation-Token", tt.tok)
				req.Header.Add("Attestation-Token", tt.tok)
				var err error
				if resp, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
			} else {
				resp = e.api(tt.path, tt.tok, tt.header)
			}
			if tt.status == 200 {
				if resp.StatusCode != 200 || hits(e.up) != before+1 {
					t.Fatalf("status %d, upstream hits %d: want forwarded", resp.StatusCode, hits(e.up)-before)
				}
				return
			}
			wantProblem(t, resp, tt.status, tt.reason)
			if hits(e.up) != before {
				t.Error("a refused request reached the upstream")
			}
			if tt.status == 401 && tt.reason != "attestation.invalid" && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// Run-time controls, written to the durable store as the operator API
	// does, apply within one poll interval.
	ctx := context.Background()
	status := func(tok string) int { return e.api("/api/x", tok, nil).StatusCode }
	v240 := mint(t, e.keys.issuer, claimsFor("shop-ios", "install-2", "2.4.0", jkt), now, 5*time.Minute)
	if err := durable.SetVersionBlocked(ctx, "shop-ios", "2.4.0", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a version blocked at run time", func() bool { return status(v240) == 403 })
	wantProblem(t, e.api("/api/x", v240, nil), 403, "attestation.version_blocked")
	if status(good) != 200 {
		t.Fatal("another version was blocked too")
	}

	is, _ := e.iosToken("shop-ios", "2.3.1")
	if err := durable.RevokeDevice(ctx, "shop-ios", is.InstallID, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a device revoked at run time", func() bool { return status(is.Token) == 403 })
	wantProblem(t, e.api("/api/x", is.Token, nil), 403, "attestation.device_revoked")

	if err := durable.SetTokenCutoff(ctx, "shop-ios", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a token cut-off", func() bool { return status(good) == 401 })
	wantProblem(t, e.api("/api/x", good, nil), 401, "attestation.token_revoked")
	// A token issued after the cut-off passes.
	fresh := mint(t, e.keys.issuer, claimsFor("shop-ios", "install-3", "2.3.1", jkt), time.Now().Add(2*time.Second), time.Minute)
	if s := status(fresh); s != 200 {
		t.Fatalf("a token issued after the cut-off: %d", s)
	}
}

// accessToken is a token of the gateway's own key, with the claims of
// an attestation token, that is not one (typ at+jwt).
func accessToken(t *testing.T, e *attestEnv) string {
	t.Helper()
	b, err := os.ReadFile(e.keys.file)
	if err != nil {
		t.Fatal(err)
	}
	set, err := token.ParseKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	priv := set.Keys()[0]
	kid, _ := token.Thumbprint(priv.Public())
	k, err := token.NewKey(priv.Private(), kid, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(k, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := claimsFor("shop-ios", "install-1", "2.3.1", strings.Repeat("k", 43))
	c.Issuer, c.IssuedAt, c.Expiry, c.ID = attIssuer, now.Unix(), now.Add(time.Minute).Unix(), "jti-1"
	tok, err := s.Sign(c, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The token bound to a session: the Authorization header must be the one
// the token was issued for.
func TestAttestationBinding(t *testing.T) {
	e := startAttestEnv(t, "")
	body, _ := e.appleBody("shop-ios", "", "2.3.1")
	body["bind_authorization"] = true
	is := e.exchange("/v1/attest/apple", body, map[string]string{"Authorization": "Bearer alice"})
	if resp := e.api("/bound/x", is.Token, map[string]string{"Authorization": "Bearer alice"}); resp.StatusCode != 200 {
		t.Fatalf("bound token with its session: %d", resp.StatusCode)
	}
	wantProblem(t, e.api("/bound/x", is.Token, map[string]string{"Authorization": "Bearer mallory"}), 401, "attestation.binding_mismatch")
	wantProblem(t, e.api("/bound/x", is.Token, nil), 401, "attestation.binding_mismatch")
	// An unbound token on a route that requires binding.
	unbound, _ := e.iosToken("shop-ios", "2.3.1")
	wantProblem(t, e.api("/bound/x", unbound.Token, map[string]string{"Authorization": "Bearer alice"}), 401, "attestation.binding_mismatch")
	// A bound token is fine where no binding is required.
	if resp := e.api("/api/x", is.Token, nil); resp.StatusCode != 200 {
		t.Fatalf("bound token on an unbound route: %d", resp.StatusCode)
	}
}

// The hot store is unreachable: challenges and exchanges answer 503, and
// come back with the store.
func TestAttestationStoreUnavailable(t *testing.T) {
	srv := testenv.Redis(t)
	hot, err := redis.Open(context.Background(), redis.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hot.Close() })
	e := startAttestEnv(t, "", func(e *env) { e.gwOpts.Hot = hot })
	body, _ := e.appleBody("shop-ios", "", "2.3.1")
	srv.Stop()
	resp, _ := e.post("/v1/attest/challenge", map[string]string{"app": "shop-ios"}, nil)
	wantProblem(t, resp, 503, "attestation.unavailable")
	resp, _ = e.post("/v1/attest/apple", body, nil)
	wantProblem(t, resp, 503, "attestation.unavailable")
	srv.Start(t)
	eventually(t, "challenges after Redis came back", func() bool {
		resp, _ := e.post("/v1/attest/challenge", map[string]string{"app": "shop-ios"}, nil)
		return resp.StatusCode == 200
	})
}
