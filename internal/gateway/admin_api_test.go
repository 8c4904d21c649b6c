package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/sqlite"
)

const adminToken = "operator-token-0123456789"

// adminCall sends a request to the operator API and returns the status
// and the body.
func adminCall(t *testing.T, base, method, path, tok, body string) (*http.Response, []byte) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rb)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, b
}

func withAdminToken(tok string) func(*env) {
	return func(e *env) { e.vars["ADMIN_TOKEN"] = tok }
}

func TestOperatorAPI(t *testing.T) {
	e := startAttestEnv(t, "", withAdminToken(adminToken))
	is, _ := e.iosToken("shop-ios", "2.3.1")
	call := func(method, path, body string) (*http.Response, []byte) {
		return adminCall(t, e.admin, method, path, adminToken, body)
	}
	ok := func(method, path, body string) map[string]any {
		t.Helper()
		resp, b := call(method, path, body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// Authentication, for changes and reads alike.
	for _, tok := range []string{"", "wrong", adminToken + "x", strings.ToUpper(adminToken)} {
		for _, r := range [][2]string{{"POST", "/v1/apps/shop-ios/versions/2.3.1/block"}, {"GET", "/v1/controls"}} {
			resp, _ := adminCall(t, e.admin, r[0], r[1], tok, "")
			wantProblem(t, resp, 401, "admin.unauthorized")
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		}
	}
	if e.api("/api/x", is.Token, nil).StatusCode != 200 {
		t.Fatal("a refused operator request changed something")
	}

	// Block a version: this node applies it at once.
	if m := ok("POST", "/v1/apps/shop-ios/versions/2.3.1/block", ""); m["blocked"] != true || m["version"] != "2.3.1" {
		t.Errorf("block: %v", m)
	}
	wantProblem(t, e.api("/api/x", is.Token, nil), 403, "attestation.version_blocked")
	ok("DELETE", "/v1/apps/shop-ios/versions/2.3.1/block", "")
	if s := e.api("/api/x", is.Token, nil).StatusCode; s != 200 {
		t.Fatalf("after unblocking: %d", s)
	}

	// Revoke the install; read its record.
	m := ok("POST", "/v1/apps/shop-ios/devices/"+is.InstallID+"/revoke", "")
	first := m["revoked_at"]
	wantProblem(t, e.api("/api/x", is.Token, nil), 403, "attestation.device_revoked")
	if m := ok("POST", "/v1/apps/shop-ios/devices/"+is.InstallID+"/revoke", ""); m["revoked_at"] != first {
		t.Errorf("revoking again moved the time: %v, want %v", m["revoked_at"], first)
	}
	d := ok("GET", "/v1/apps/shop-ios/devices/"+is.InstallID, "")
	if d["platform"] != "apple" || d["revoked_at"] != first || d["install"] != is.InstallID || d["public_key"] == "" {
		t.Errorf("device: %v", d)
	}

	// Cut-offs: now, an explicit time, removal.
	is2, _ := e.iosToken("shop-ios", "2.3.1")
	time.Sleep(1100 * time.Millisecond) // iat has one-second resolution
	ok("POST", "/v1/apps/shop-ios/cutoff", "")
	wantProblem(t, e.api("/api/x", is2.Token, nil), 401, "attestation.token_revoked")
	ok("DELETE", "/v1/apps/shop-ios/cutoff", "")
	if s := e.api("/api/x", is2.Token, nil).StatusCode; s != 200 {
		t.Fatalf("after removing the cut-off: %d", s)
	}
	before := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if m := ok("POST", "/v1/apps/shop-ios/cutoff", `{"before":"`+before+`"}`); !strings.HasPrefix(m["before"].(string), before[:19]) {
		t.Errorf("cutoff: %v", m)
	}

	// The snapshot.
	snap := ok("GET", "/v1/controls", "")
	revoked, _ := snap["revoked"].([]any)
	if len(revoked) != 1 || snap["token_cutoffs"].(map[string]any)["shop-ios"] == nil || snap["generation"].(float64) < 5 {
		t.Errorf("controls: %v", snap)
	}

	// Refusals.
	for _, tt := range []struct {
		method, path, body string
		status             int
		reason             string
	}{
		{"POST", "/v1/apps/nope/versions/1.0/block", "", 404, "admin.unknown_app"},
		{"POST", "/v1/apps/shop-ios/devices/no-such-install/revoke", "", 404, "admin.not_found"},
		{"GET", "/v1/apps/shop-ios/devices/no-such-install", "", 404, "admin.not_found"},
		{"GET", "/v1/apps/shop-ios/versions/1.0/block", "", 405, "admin.method_not_allowed"},
		{"PUT", "/v1/controls", "", 405, "admin.method_not_allowed"},
		{"POST", "/v1/apps/shop-ios/cutoff", `{"before":"yesterday"}`, 400, "admin.bad_request"},
		{"POST", "/v1/apps/shop-ios/cutoff", `{"before":"2020-01-01T00:00:00Z","x":1}`, 400, "admin.bad_request"},
		{"POST", "/v1/apps/shop-ios/cutoff", `{"before":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`, 400, "admin.bad_request"},
		{"POST", "/v1/apps/shop-ios/cutoff", strings.Repeat(" ", 5000), 400, "admin.bad_request"},
		{"POST", "/v1/apps/shop-ios/versions/%20/block", "", 400, "admin.bad_request"},
		{"GET", "/v1/nothing", "", 404, "admin.not_found"},
	} {
		resp, _ := call(tt.method, tt.path, tt.body)
		if p := readProblem(t, resp); resp.StatusCode != tt.status || p.Reason != tt.reason {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, p.Reason, tt.status, tt.reason)
		}
	}
	// Changes are logged, the token never.
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"operator request"`) || strings.Contains(logs, adminToken) {
		t.Errorf("operator requests are not logged, or the token is")
	}
}

// Without admin.token the operator API only reads.
func TestOperatorAPIWithoutToken(t *testing.T) {
	e := startAttestEnv(t, "")
	resp, _ := adminCall(t, e.admin, "POST", "/v1/apps/shop-ios/versions/2.3.1/block", "", "")
	wantProblem(t, resp, 403, "admin.disabled")
	resp, _ = adminCall(t, e.admin, "POST", "/v1/apps/shop-ios/cutoff", "anything", "")
	wantProblem(t, resp, 403, "admin.disabled")
	if resp, b := adminCall(t, e.admin, "GET", "/v1/controls", "", ""); resp.StatusCode != 200 {
		t.Fatalf("read without a token configured: %d %s", resp.StatusCode, b)
	}
}

// Two gateways share one SQLite file: a revocation through the operator
// API of one applies on the other within one second.
func TestOperatorAPIAcrossNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	open := func() *sqlite.Durable {
		d, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	a := startAttestEnv(t, "", withAdminToken(adminToken), func(e *env) { e.gwOpts.Durable = open() })
	b := startAttestEnv(t, "", withAdminToken(adminToken), func(e *env) {
		e.gwOpts.Durable = open()
		e.vars["SIGNING_KEY"] = a.keys.file // replicas share the signing key
	})
	is, _ := a.iosToken("shop-ios", "2.3.1")
	if a.api("/api/x", is.Token, nil).StatusCode != 200 || b.api("/api/x", is.Token, nil).StatusCode != 200 {
		t.Fatal("the token is not accepted on both nodes")
	}
	if resp, body := adminCall(t, b.admin, "POST", "/v1/apps/shop-ios/devices/"+is.InstallID+"/revoke", adminToken, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke through node b: %d %s", resp.StatusCode, body)
	}
	start := time.Now()
	eventually(t, "node a refusing the install revoked through node b", func() bool {
		return a.api("/api/x", is.Token, nil).StatusCode == 403
	})
	t.Logf("applied on the other node after %v", time.Since(start).Round(time.Millisecond))
	wantProblem(t, a.api("/api/x", is.Token, nil), 403, "attestation.device_revoked")
}

// The durable store is down: the operator API says so (503), it never
// claims a change it could not store.
func TestOperatorAPIStoreDown(t *testing.T) {
	durable := memory.NewDurable()
	e := startAttestEnv(t, "", withAdminToken(adminToken), func(e *env) { e.gwOpts.Durable = durable })
	durable.Close()
	for _, r := range [][2]string{{"POST", "/v1/apps/shop-ios/versions/2.3.1/block"}, {"POST", "/v1/apps/shop-ios/cutoff"}, {"GET", "/v1/controls"}} {
		resp, _ := adminCall(t, e.admin, r[0], r[1], adminToken, "")
		wantProblem(t, resp, 503, "admin.unavailable")
	}
}
