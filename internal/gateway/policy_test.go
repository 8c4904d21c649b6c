package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const policyYAML = `
listen: ${LISTEN}
trusted_proxies: [10.9.0.0/16]
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: ip-allow
    match: {path_prefix: /ip/allow}
    upstream: app
    policies:
      - ip: {allow: [127.0.0.0/8]}
  - name: ip-deny
    match: {path_prefix: /ip/deny}
    upstream: app
    policies:
      - ip: {allow: [127.0.0.0/8], deny: [127.0.0.1]}
  - name: ip-elsewhere
    match: {path_prefix: /ip/elsewhere}
    upstream: app
    policies:
      - ip: {allow: [10.0.0.0/8, "2001:db8::/32"]}
  - name: ua
    match: {path_prefix: /ua}
    upstream: app
    policies:
      - useragent:
          deny: ["curl/*", "*bot*", "python-requests/2.*"]
          deny_empty: true
  - name: ua-allow
    match: {path_prefix: /ua-allow}
    upstream: app
    policies:
      - useragent:
          allow: ["ShopApp/*"]
  - name: headers
    match: {path_prefix: /headers}
    upstream: app
    policies:
      - headers:
          require: [X-App-Version]
          forbid: [X-Debug]
          security_headers: true
          no_store: true
          response:
            X-Served-By: drawbridge
  - name: cors
    match: {path_prefix: /cors}
    upstream: app
    policies:
      - cors:
          allow_origins: [https://shop.example]
          allow_methods: [GET, POST]
          allow_headers: [Authorization, Content-Type]
          expose_headers: [X-Request-Id]
          allow_credentials: true
          max_age: 1h
      - useragent: {deny: ["curl/*"]}
  - name: cors-strict
    match: {path_prefix: /strict-cors}
    upstream: app
    policies:
      - cors:
          allow_origins: ["*"]
          deny_unknown_origins: true
  - name: cors-deny
    match: {path_prefix: /cors-deny}
    upstream: app
    policies:
      - cors:
          allow_origins: [https://shop.example]
          deny_unknown_origins: true
`

func TestPolicies(t *testing.T) {
	e := startEnv(t, policyYAML)
	type hdr = map[string]string
	tests := []struct {
		name    string
		method  string
		target  string
		header  hdr
		status  int
		reason  string
		respHdr hdr // response headers that must be set
		absent  []string
	}{
		{name: "ip allowed", target: "/ip/allow", status: 200},
		{name: "ip deny wins over allow", target: "/ip/deny", status: 403, reason: "ip.denied"},
		{name: "ip not in allow list", target: "/ip/elsewhere", status: 403, reason: "ip.denied"},
		{name: "ip spoofed XFF from untrusted peer ignored", target: "/ip/elsewhere", header: hdr{"X-Forwarded-For": "10.1.2.3"}, status: 403, reason: "ip.denied"},
		{name: "ua browser", target: "/ua", status: 200},
		{name: "ua curl", target: "/ua", header: hdr{"User-Agent": "curl/8.5.0"}, status: 403, reason: "useragent.denied"},
		{name: "ua glob middle case-insensitive", target: "/ua", header: hdr{"User-Agent": "Mozilla/5.0 (compatible; GoogleBOT/2.1)"}, status: 403, reason: "useragent.denied"},
		{name: "ua versioned", target: "/ua", header: hdr{"User-Agent": "python-requests/2.31.0"}, status: 403, reason: "useragent.denied"},
		{name: "ua other version passes", target: "/ua", header: hdr{"User-Agent": "python-requests/3.0"}, status: 200},
		{name: "ua empty", target: "/ua", header: hdr{"User-Agent": ""}, status: 403, reason: "useragent.missing"},
		{name: "ua allow-list", target: "/ua-allow", header: hdr{"User-Agent": "ShopApp/1.2"}, status: 200},
		{name: "ua allow-list miss", target: "/ua-allow", status: 403, reason: "useragent.denied"},
		{name: "headers present", target: "/headers", header: hdr{"X-App-Version": "1.2"}, status: 200,
			respHdr: hdr{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Served-By": "drawbridge", "Referrer-Policy": "no-referrer"},
			absent:  []string{"Strict-Transport-Security"}},
		{name: "headers HSTS behind trusted TLS proxy is not claimed by client", target: "/headers", header: hdr{"X-App-Version": "1", "X-Forwarded-Proto": "https"}, status: 200, absent: []string{"Strict-Transport-Security"}},
		{name: "headers missing", target: "/headers", status: 400, reason: "headers.missing", respHdr: hdr{"Cache-Control": "no-store", "X-Served-By": "drawbridge"}},
		{name: "headers forbidden", target: "/headers", header: hdr{"X-App-Version": "1", "X-Debug": "1"}, status: 400, reason: "headers.forbidden"},
		{name: "cors no origin passes untouched", target: "/cors", status: 200, absent: []string{"Access-Control-Allow-Origin"}},
		{name: "cors allowed origin", target: "/cors", header: hdr{"Origin": "https://shop.example"}, status: 200,
			respHdr: hdr{"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin"}},
		{name: "cors unknown origin gets no CORS headers, upstream's are overridden", target: "/cors", header: hdr{"Origin": "https://evil.example"}, status: 200,
			absent: []string{"Access-Control-Allow-Credentials"}},
		{name: "cors preflight", method: "OPTIONS", target: "/cors/orders", header: hdr{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization"}, status: 204,
			respHdr: hdr{"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Max-Age": "3600"}},
		{name: "cors preflight bad method", method: "OPTIONS", target: "/cors/orders", header: hdr{"Origin": "https://shop.example", "Access-Control-Request-Method": "DELETE"}, status: 403, reason: "cors.preflight_denied"},
		{name: "cors preflight bad header", method: "OPTIONS", target: "/cors/orders", header: hdr{"Origin": "https://shop.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Evil"}, status: 403, reason: "cors.preflight_denied"},
		{name: "cors preflight bad origin", method: "OPTIONS", target: "/cors/orders", header: hdr{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, status: 403, reason: "cors.preflight_denied"},
		{name: "cors headers on later denial", target: "/cors", header: hdr{"Origin": "https://shop.example", "User-Agent": "curl/8"}, status: 403, reason: "useragent.denied",
			respHdr: hdr{"Access-Control-Allow-Origin": "https://shop.example"}},
		{name: "cors wildcard", target: "/strict-cors", header: hdr{"Origin": "https://any.example"}, status: 200, respHdr: hdr{"Access-Control-Allow-Origin": "*"}},
		{name: "cors deny unknown", target: "/cors-deny", header: hdr{"Origin": "https://evil.example"}, status: 403, reason: "cors.origin_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.up.hits.Load()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp := e.do(method, tt.target, tt.header, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range tt.respHdr {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("response %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.absent {
				if got := resp.Header.Get(k); got != "" && !(k == "Access-Control-Allow-Origin" && got == "https://upstream-says.example") {
					t.Errorf("response %s = %q, want absent", k, got)
				}
			}
			if tt.reason == "" {
				return
			}
			if p := readProblem(t, resp); p.Reason != tt.reason {
				t.Fatalf("reason = %q, want %q", p.Reason, tt.reason)
			}
			if e.up.hits.Load() != before {
				t.Fatal("refused request reached the upstream")
			}
		})
	}
}

// TestProblemFormat checks the RFC 9457 body of a refusal: its members,
// its media type, and that it carries no internal detail.
func TestProblemFormat(t *testing.T) {
	e := startEnv(t, basicYAML)
	resp := e.do("GET", "/api/x", map[string]string{"User-Agent": "curl/8.1"}, "")
	if resp.StatusCode != 403 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type":       "urn:drawbridge:problem:useragent.denied",
		"title":      "Forbidden",
		"status":     float64(403),
		"detail":     "This client is not allowed on this route.",
		"reason":     "useragent.denied",
		"request_id": resp.Header.Get("X-Request-Id"),
	}
	if len(raw) != len(want) {
		t.Errorf("members = %v, want exactly %v", raw, want)
	}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s = %v, want %v", k, raw[k], v)
		}
	}
	if resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", resp.Header)
	}
	if id := resp.Header.Get("X-Request-Id"); len(id) != 32 {
		t.Errorf("request id = %q", id)
	}
	// The decision log names the layer and reason, never the User-Agent.
	logs := e.logs.String()
	if !strings.Contains(logs, `"reason":"useragent.denied"`) || !strings.Contains(logs, `"layer":"useragent"`) || strings.Contains(logs, "curl/8.1") {
		t.Errorf("decision log = %s", logs)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	e := startEnv(t, basicYAML)
	e.do("GET", "/api/x", nil, "")
	e.do("GET", "/api/x", map[string]string{"User-Agent": "curl/1"}, "")
	e.do("GET", "/nope", nil, "")
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": `drawbridge_decisions_total{decision="deny",layer="useragent",reason="useragent.denied",route="api"} 1`,
	} {
		resp, err := http.Get(e.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want it to contain %q", path, resp.StatusCode, body, want)
		}
	}
	resp, _ := http.Get(e.admin + "/metrics")
	body := readAll(t, resp)
	for _, want := range []string{
		`drawbridge_decisions_total{decision="allow",layer="",reason="",route="api"} 1`,
		`drawbridge_decisions_total{decision="deny",layer="route",reason="route.not_found",route=""} 1`,
		`drawbridge_request_duration_seconds_count{decision="allow",route="api"} 1`,
		`drawbridge_config_reloads_total{result="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The API listener does not serve metrics.
	if resp := e.do("GET", "/metrics", nil, ""); resp.StatusCode != 404 {
		t.Errorf("API /metrics = %d", resp.StatusCode)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
