package gateway_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/token/tokentest"
)

const rateLimitYAML = `
listen: ${LISTEN}
admin: {listen: "${ADMIN_LISTEN}"}
trusted_proxies: [127.0.0.1/32]
upstreams:
  app: {url: "${UPSTREAM}"}
issuers:
  main: {issuer: "https://id.test", jwks_file: "${KEYS}", algorithms: [HS256], audiences: [https://api.test]}
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-ip, key: ip, rate: 3, per: 1m}]}
  - name: two
    match: {path_prefix: /two/}
    upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: per-second, key: ip, rate: 1, per: 1s, burst: 2}
            - {name: per-hour, key: ip, rate: 5, per: 1h}
  - name: net64
    match: {path_prefix: /net64/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-net, key: ip, rate: 1, per: 1h}]}
  - name: net48
    match: {path_prefix: /net48/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-net, key: ip, rate: 1, per: 1h}], ipv6_prefix: 48}
  - name: header
    match: {path_prefix: /header/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-key, key: "header:X-Api-Key", rate: 1, per: 1h}]}
  - name: user
    match: {path_prefix: /user/}
    upstream: app
    policies:
      - jwt: {issuers: [main]}
      - ratelimit:
          limits:
            - {name: per-user, key: sub, rate: 1, per: 1h}
            - {name: per-tenant, key: "claim:tenant", rate: 2, per: 1h}
`

// hmacKeys writes an HS256 key file and returns its path and a minter of
// tokens for sub in tenant.
func hmacKeys(t *testing.T) (string, func(sub, tenant string) map[string]string) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	path := filepath.Join(t.TempDir(), "keys.json")
	jwks := fmt.Sprintf(`{"keys":[{"kty":"oct","kid":"k1","alg":"HS256","k":%q}]}`, base64.RawURLEncoding.EncodeToString(secret))
	if err := os.WriteFile(path, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, func(sub, tenant string) map[string]string {
		now := time.Now().Unix()
		claims := map[string]any{"iss": "https://id.test", "aud": "https://api.test", "sub": sub, "iat": now, "exp": now + 600}
		if tenant != "" {
			claims["tenant"] = tenant
		}
		tok := tokentest.Compact(map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims, tokentest.HMAC(secret))
		return map[string]string{"Authorization": "Bearer " + tok}
	}
}

func rateLimitEnv(t *testing.T, opts ...func(*env)) (*env, func(sub, tenant string) map[string]string) {
	keys, mint := hmacKeys(t)
	e := startEnv(t, rateLimitYAML, append([]func(*env){func(e *env) { e.vars["KEYS"] = keys }}, opts...)...)
	return e, mint
}

// from presents the request as coming from client, through the trusted
// proxy at 127.0.0.1.
func from(client string, h ...map[string]string) map[string]string {
	out := map[string]string{"X-Forwarded-For": client}
	for _, m := range h {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sfList parses a response's structured-field List, failing the test on
// a syntax error, and renders each item as name;param=value... in order.
func sfList(t *testing.T, resp *http.Response, field string) []string {
	t.Helper()
	vals := resp.Header.Values(field)
	if len(vals) == 0 {
		return nil
	}
	l, err := httpsfv.UnmarshalList(vals)
	if err != nil {
		t.Fatalf("%s: %q is not a structured-field List: %v", field, vals, err)
	}
	var out []string
	for _, m := range l {
		it, ok := m.(httpsfv.Item)
		if !ok {
			t.Fatalf("%s: member %v is not an Item", field, m)
		}
		name, ok := it.Value.(string)
		if !ok {
			t.Fatalf("%s: item %v is not a String", field, it.Value)
		}
		s := name
		for _, p := range it.Params.Names() {
			v, _ := it.Params.Get(p)
			if _, ok := v.(int64); !ok {
				t.Fatalf("%s: parameter %s=%v is not an Integer", field, p, v)
			}
			s += fmt.Sprintf(";%s=%v", p, v)
		}
		out = append(out, s)
	}
	return out
}

// TestRateLimitFields: a burst of 3 per minute, then 429 with
// Retry-After, and the draft-ietf-httpapi-ratelimit-headers-11 fields on
// every response.
func TestRateLimitFields(t *testing.T) {
	e, _ := rateLimitEnv(t)
	steps := []struct {
		status int
		fields []string
	}{
		{200, []string{"per-ip;r=2;t=20"}},
		{200, []string{"per-ip;r=1;t=40"}},
		{200, []string{"per-ip;r=0;t=20"}}, // the next request in 20s
		{429, []string{"per-ip;r=0;t=20"}},
	}
	for i, st := range steps {
		resp := e.do("GET", "/api/x", from("198.51.100.1"), "")
		if resp.StatusCode != st.status {
			t.Fatalf("request %d: status %d, want %d", i+1, resp.StatusCode, st.status)
		}
		if diff := cmp.Diff([]string{"per-ip;q=3;w=60"}, sfList(t, resp, "RateLimit-Policy")); diff != "" {
			t.Errorf("request %d: RateLimit-Policy (-want +got):\n%s", i+1, diff)
		}
		if diff := cmp.Diff(st.fields, sfList(t, resp, "RateLimit")); diff != "" {
			t.Errorf("request %d: RateLimit (-want +got):\n%s", i+1, diff)
		}
		if st.status == 429 {
			if got := resp.Header.Get("Retry-After"); got != "20" {
				t.Errorf("Retry-After = %q, want 20", got)
			}
			if p := readProblem(t, resp); p.Reason != "ratelimit.exceeded" || p.Status != 429 {
				t.Errorf("problem %+v, want 429 ratelimit.exceeded", p)
			}
		}
	}
	if n := e.up.hits.Load(); n != 3 {
		t.Errorf("upstream saw %d requests, want 3", n)
	}
	if !strings.Contains(e.logs.String(), `"reason":"ratelimit.exceeded","method":"GET","path":"/api/x","client_ip":"198.51.100.1"`) ||
		!strings.Contains(e.logs.String(), `"cause":"ratelimit: per-ip exceeded"`) {
		t.Errorf("no decision line for the refusal:\n%s", e.logs)
	}
	if got := scrape(t, e, `drawbridge_decisions_total{decision="deny",layer="ratelimit",reason="ratelimit.exceeded",route="api"}`); got != 1 {
		t.Errorf("refusals counted: %v, want 1", got)
	}
}

// TestRateLimitAllOrNothing: two limits on one route; a request refused
// by the per-second limit does not consume the hourly one, and the 429
// names only the limit that refused.
func TestRateLimitAllOrNothing(t *testing.T) {
	e, _ := rateLimitEnv(t)
	client := from("198.51.100.2")
	for i := range 2 {
		if resp := e.do("GET", "/two/x", client, ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i+1, resp.StatusCode)
		}
	}
	for range 5 {
		resp := e.do("GET", "/two/x", client, "")
		if resp.StatusCode != 429 {
			t.Fatalf("status %d, want 429 from per-second", resp.StatusCode)
		}
		if diff := cmp.Diff([]string{"per-second;r=0;t=1"}, sfList(t, resp, "RateLimit")); diff != "" {
			t.Fatalf("RateLimit on the 429 (-want +got):\n%s", diff)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	resp := e.do("GET", "/two/x", client, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d after a second, want 200", resp.StatusCode)
	}
	// Three of the hourly five used: the five refusals took none.
	got := sfList(t, resp, "RateLimit")
	if len(got) != 2 || !strings.HasPrefix(got[1], "per-hour;r=2;") {
		t.Errorf("RateLimit = %v, want per-hour with r=2", got)
	}
}

// TestRateLimitKeys: each key kind counts requests by its own value.
func TestRateLimitKeys(t *testing.T) {
	e, mint := rateLimitEnv(t)
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"per IP", "/api/x", from("203.0.113.7"), 200},
		{"IPv4 /32: a neighbour is another client", "/net64/x", from("203.0.113.7"), 200},
		{"neighbour", "/net64/x", from("203.0.113.8"), 200},
		{"same address again", "/net64/x", from("203.0.113.7"), 429},

		{"IPv6", "/net64/x", from("2001:db8:1:2::1"), 200},
		{"another address of the same /64", "/net64/x", from("2001:db8:1:2:ffff:ffff:ffff:9"), 429},
		{"the next /64", "/net64/x", from("2001:db8:1:3::1"), 200},
		{"/48: the first /64", "/net48/x", from("2001:db8:1:2::1"), 200},
		{"/48: another /64 of the same /48", "/net48/x", from("2001:db8:1:77::1"), 429},
		{"/48: another /48", "/net48/x", from("2001:db8:2::1"), 200},

		{"header", "/header/x", from("192.0.2.1", map[string]string{"X-Api-Key": "key-a"}), 200},
		{"header again, another address", "/header/x", from("192.0.2.2", map[string]string{"X-Api-Key": "key-a"}), 429},
		{"another header value", "/header/x", from("192.0.2.1", map[string]string{"X-Api-Key": "key-b"}), 200},
		{"no header: counted by address", "/header/x", from("192.0.2.9"), 200},
		{"no header again", "/header/x", from("192.0.2.9"), 429},

		{"user 1", "/user/x", from("192.0.2.10", mint("user-1", "acme")), 200},
		{"user 1 from elsewhere", "/user/x", from("192.0.2.11", mint("user-1", "acme")), 429},
		{"user 2, same tenant", "/user/x", from("192.0.2.10", mint("user-2", "acme")), 200},
		{"user 3, tenant spent", "/user/x", from("192.0.2.12", mint("user-3", "acme")), 429},
		{"user 3, another tenant", "/user/x", from("192.0.2.12", mint("user-3", "globex")), 200},
		{"user 4 without a tenant: counted by address", "/user/x", from("192.0.2.13", mint("user-4", "")), 200},
	}
	for _, tc := range tests {
		resp := e.do("GET", tc.path, tc.header, "")
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

// TestRateLimitSurvivesReload: a reload keeps the counts (the memory
// limiter belongs to the gateway, not to one config).
func TestRateLimitSurvivesReload(t *testing.T) {
	e, _ := rateLimitEnv(t)
	for range 3 {
		e.do("GET", "/api/x", from("198.51.100.3"), "")
	}
	f, err := config.Load(e.cfgPath, e.source())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(f); err != nil {
		t.Fatal(err)
	}
	if resp := e.do("GET", "/api/x", from("198.51.100.3"), ""); resp.StatusCode != 429 {
		t.Errorf("after a reload: status %d, want 429", resp.StatusCode)
	}
}

// TestRateLimitCompileProblems: rates the limiter cannot represent are
// refused when the config is compiled, with the limit's field path.
func TestRateLimitCompileProblems(t *testing.T) {
	yaml := `
upstreams: {app: {url: "http://127.0.0.1:1"}}
routes:
  - upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: fast, key: ip, rate: 2000000, per: 1s}
            - {name: wide, key: ip, rate: 1, per: 1h, burst: 10000}
`
	f, err := config.Parse("x.yaml", []byte(yaml), config.Source{})
	if err != nil {
		t.Fatal(err)
	}
	err = gateway.Check(f)
	for _, want := range []string{
		`routes[0].policies[0].ratelimit.limits[0]: limit "fast": more than one request per microsecond`,
		`routes[0].policies[0].ratelimit.limits[1]: limit "wide": the burst window (burst × period/count) exceeds 366 days`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v\nwant it to contain %q", err, want)
		}
	}
}
