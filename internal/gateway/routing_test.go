package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

const routingYAML = `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
  based:
    url: ${UPSTREAM}/base/
routes:
  - name: admin-host
    match:
      hosts: [admin.example.com]
    upstream: app
  - name: order
    match:
      path: /api/orders/{id}
      methods: [GET, DELETE]
    upstream: app
  - name: files
    match:
      path: /files/{rest...}
    upstream: app
  - name: tenant
    match:
      hosts: ["*.tenant.example"]
      path_prefix: /t
    upstream: app
  - name: v2
    match:
      path_prefix: /v2/
    strip_prefix: /v2
    upstream: based
  - name: exact-case
    match:
      path_prefix: /CaseSensitive
      case_sensitive: true
    upstream: app
  - name: api
    match:
      path_prefix: /api/
    upstream: app
`

func TestRouting(t *testing.T) {
	e := startEnv(t, routingYAML)
	tests := []struct {
		name     string
		method   string
		target   string
		host     string
		status   int
		reason   string
		upstream string // escaped path the upstream must see
	}{
		{name: "prefix", method: "GET", target: "/api/products", status: 200, upstream: "/api/products"},
		{name: "prefix root", method: "GET", target: "/api/", status: 200, upstream: "/api/"},
		{name: "prefix without slash", method: "GET", target: "/api", status: 200, upstream: "/api"},
		{name: "prefix is segment-wise", method: "GET", target: "/apix", status: 404, reason: "route.not_found"},
		{name: "outside every route", method: "GET", target: "/admin", status: 404, reason: "route.not_found"},
		{name: "root", method: "GET", target: "/", status: 404, reason: "route.not_found"},
		{name: "query kept", method: "GET", target: "/api/search?q=a%20b&x=1", status: 200, upstream: "/api/search"},
		{name: "pattern", method: "GET", target: "/api/orders/17", status: 200, upstream: "/api/orders/17"},
		{name: "pattern method HEAD with GET", method: "HEAD", target: "/api/orders/17", status: 200},
		{name: "pattern wrong method falls through", method: "POST", target: "/api/orders/17", status: 200, upstream: "/api/orders/17"},
		{name: "pattern too deep falls through", method: "GET", target: "/api/orders/17/items", status: 200, upstream: "/api/orders/17/items"},
		{name: "rest wildcard", method: "GET", target: "/files/a/b/c.txt", status: 200, upstream: "/files/a/b/c.txt"},
		{name: "rest wildcard needs a segment", method: "GET", target: "/files/", status: 404, reason: "route.not_found"},
		{name: "host route", method: "GET", target: "/anything", host: "admin.example.com", status: 200, upstream: "/anything"},
		{name: "host route with port and case", method: "GET", target: "/x", host: "ADMIN.example.com:8443", status: 200, upstream: "/x"},
		{name: "wildcard host", method: "GET", target: "/t/1", host: "acme.tenant.example", status: 200, upstream: "/t/1"},
		{name: "wildcard host needs a label", method: "GET", target: "/t/1", host: "tenant.example", status: 404, reason: "route.not_found"},
		{name: "strip prefix and base path", method: "GET", target: "/v2/items/9", status: 200, upstream: "/base/items/9"},
		{name: "strip prefix to root", method: "GET", target: "/v2/", status: 200, upstream: "/base/"},
		{name: "case-insensitive by default", method: "GET", target: "/API/products", status: 200, upstream: "/API/products"},
		{name: "case-sensitive route", method: "GET", target: "/casesensitive/x", status: 404, reason: "route.not_found"},
		{name: "case-sensitive route exact", method: "GET", target: "/CaseSensitive/x", status: 200, upstream: "/CaseSensitive/x"},
		{name: "escapes forwarded canonical", method: "GET", target: "/api/caf%c3%a9", status: 200, upstream: "/api/caf%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.up.hits.Load()
			h := map[string]string{}
			if tt.host != "" {
				h["Host"] = tt.host
			}
			resp := e.do(tt.method, tt.target, h, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.reason != "" {
				if p := readProblem(t, resp); p.Reason != tt.reason {
					t.Fatalf("reason = %q, want %q", p.Reason, tt.reason)
				}
				if e.up.hits.Load() != before {
					t.Fatal("refused request reached the upstream")
				}
				return
			}
			if tt.upstream != "" {
				got := e.up.last(t)
				if got.Path != tt.upstream {
					t.Errorf("upstream path = %q, want %q", got.Path, tt.upstream)
				}
				if q := strings.SplitN(tt.target, "?", 2); len(q) == 2 && !strings.HasSuffix(got.RequestURI, "?"+q[1]) {
					t.Errorf("upstream request URI = %q, want query %q", got.RequestURI, q[1])
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := startEnv(t, `
listen: ${LISTEN}
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - match: {path_prefix: /api/, methods: [GET, POST]}
    upstream: app
`)
	resp := e.do("DELETE", "/api/x", nil, "")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if p := readProblem(t, resp); p.Reason != "route.method_not_allowed" {
		t.Fatalf("reason = %q", p.Reason)
	}
}

// TestPathNormalisationBypasses: a path is judged by the route that
// serves its normal form, and the upstream receives exactly that form.
func TestPathNormalisationBypasses(t *testing.T) {
	e := startEnv(t, `
listen: ${LISTEN}
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - useragent: {deny: ["curl/*"]}
  - name: public
    match: {path_prefix: /public/}
    upstream: app
`)
	for _, target := range []string{"/%61pi/orders", "//api/orders", "/public/%2e%2e/api/orders", "/public/../api/orders", "/./api/orders", "/API/orders", "/api//orders", "/api/x/../orders"} {
		t.Run(target, func(t *testing.T) {
			// Judged by the api route: curl is refused there...
			resp, body := rawExchange(t, e.addr, []byte("GET "+target+" HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n"))
			if resp.StatusCode != 403 || !strings.Contains(body, "useragent.denied") {
				t.Fatalf("curl: %d %s; want 403 useragent.denied", resp.StatusCode, body)
			}
			// ...and what passes is forwarded as the path that was judged.
			resp, _ = rawExchange(t, e.addr, []byte("GET "+target+" HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"))
			if resp.StatusCode != 200 {
				t.Fatalf("browser: %d", resp.StatusCode)
			}
			want := "/api/orders"
			if target == "/API/orders" {
				want = "/API/orders"
			}
			if got := e.up.last(t); got.Path != want || got.RequestURI != want {
				t.Fatalf("upstream got %q (request URI %q), want %q", got.Path, got.RequestURI, want)
			}
		})
	}
	for _, target := range []string{"/public/..;/api/orders", "/public/..%2fapi/orders", "/public/%252e%252e/api/orders"} {
		t.Run(target, func(t *testing.T) {
			before := e.up.hits.Load()
			resp, _ := rawExchange(t, e.addr, []byte("GET "+target+" HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"))
			if resp.StatusCode != 400 || e.up.hits.Load() != before {
				t.Fatalf("status %d, upstream hits %d; want 400 and none", resp.StatusCode, e.up.hits.Load()-before)
			}
		})
	}
}
