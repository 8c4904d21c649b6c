package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHopByHopAndVouchedHeaders covers HTTP-11 of the attack catalogue:
// fields a client names in Connection are dropped before any layer judges
// the request, and the headers the gateway vouches for are added after
// that, so no Connection token can remove them.
func TestHopByHopAndVouchedHeaders(t *testing.T) {
	e := startEnv(t, `
listen: ${LISTEN}
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - match: {path_prefix: /api}
    upstream: app
    policies:
      - headers: {require: [X-App-Version]}
`)
	tests := []struct {
		name   string
		req    string
		status int
		reason string
		check  func(t *testing.T, got seen)
	}{
		{
			name:   "Connection names a required header: policies judge what is forwarded",
			req:    "GET /api HTTP/1.1\r\nHost: example.com\r\nX-App-Version: 1\r\nConnection: close, X-App-Version\r\n\r\n",
			status: 400, reason: "headers.missing",
		},
		{
			name:   "Connection names X-Forwarded-For: the gateway's XFF is still set",
			req:    "GET /api HTTP/1.1\r\nHost: example.com\r\nX-App-Version: 1\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive, X-Forwarded-For, X-Real-IP, X-Request-Id\r\n\r\n",
			status: 200,
			check: func(t *testing.T, got seen) {
				if xff := got.Header.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
					t.Errorf("X-Forwarded-For = %q, want [127.0.0.1]", xff)
				}
				if got.Header.Get("X-Real-Ip") != "127.0.0.1" || len(got.Header.Get("X-Request-Id")) != 32 {
					t.Errorf("vouched headers = %v", got.Header)
				}
			},
		},
		{
			name:   "Connection names Authorization: it is not forwarded",
			req:    "GET /api HTTP/1.1\r\nHost: example.com\r\nX-App-Version: 1\r\nAuthorization: Bearer x\r\nConnection: Authorization\r\n\r\n",
			status: 200,
			check: func(t *testing.T, got seen) {
				if got.Header.Get("Authorization") != "" {
					t.Error("Authorization forwarded although the client made it hop-by-hop")
				}
			},
		},
		{
			name:   "hop-by-hop fields are not forwarded",
			req:    "GET /api HTTP/1.1\r\nHost: example.com\r\nX-App-Version: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\n\r\n",
			status: 200,
			check: func(t *testing.T, got seen) {
				for _, h := range []string{"Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade"} {
					if got.Header.Get(h) != "" {
						t.Errorf("%s forwarded", h)
					}
				}
			},
		},
		{
			name:   "Connection naming Content-Length is refused",
			req:    "POST /api HTTP/1.1\r\nHost: example.com\r\nX-App-Version: 1\r\nContent-Length: 5\r\nConnection: Content-Length\r\n\r\nhello",
			status: 400, reason: "framing.bad_connection",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.up.hits.Load()
			resp, _ := rawExchange(t, e.addr, []byte(tt.req))
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
			if tt.check != nil {
				tt.check(t, e.up.last(t))
			}
		})
	}
}

// TestClientAddressSpoofing covers HTTP-13: the client address comes from
// the TCP peer, or behind trusted proxies from the right-most untrusted
// X-Forwarded-For entry; never from a header the client chose.
func TestClientAddressSpoofing(t *testing.T) {
	untrusted := startEnv(t, `
listen: ${LISTEN}
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - match: {path_prefix: /login}
    upstream: app
`)
	trusted := startEnv(t, `
listen: ${LISTEN}
trusted_proxies: [127.0.0.1/32, 10.0.0.0/8]
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - name: login
    match: {path_prefix: /login}
    upstream: app
  - name: office
    match: {path_prefix: /office}
    upstream: app
    policies:
      - ip: {allow: [192.0.2.0/24]}
`)
	spoof := "X-Real-IP: 127.0.0.1\r\nTrue-Client-IP: 127.0.0.1\r\nX-Client-IP: 127.0.0.1\r\nCF-Connecting-IP: 127.0.0.1\r\nForwarded: for=127.0.0.1\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n"
	tests := []struct {
		name    string
		e       *env
		req     string
		status  int
		wantXFF string
		wantIP  string
	}{
		{name: "untrusted peer: XFF ignored", e: untrusted,
			req:    "GET /login HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
			status: 200, wantXFF: "127.0.0.1", wantIP: "127.0.0.1"},
		{name: "untrusted peer: every client-IP header replaced", e: untrusted,
			req:    "GET /login HTTP/1.1\r\nHost: example.com\r\n" + spoof + "\r\n",
			status: 200, wantXFF: "127.0.0.1", wantIP: "127.0.0.1"},
		{name: "trusted proxy: right-most untrusted entry", e: trusted,
			req:    "GET /login HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4, 198.51.100.7\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
			status: 200, wantXFF: "1.2.3.4, 198.51.100.7, 10.0.0.1, 127.0.0.1", wantIP: "198.51.100.7"},
		{name: "trusted proxy: spoofed left-most value does not win", e: trusted,
			req:    "GET /office HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 192.0.2.9, 203.0.113.5\r\n\r\n",
			status: 403},
		{name: "trusted proxy: real office client", e: trusted,
			req:    "GET /office HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 203.0.113.5, 192.0.2.9\r\n\r\n",
			status: 200, wantIP: "192.0.2.9"},
		{name: "trusted proxy: malformed entry ends the chain", e: trusted,
			req:    "GET /login HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4, garbage, 10.0.0.2\r\n\r\n",
			status: 200, wantIP: "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := rawExchange(t, tt.e.addr, []byte(tt.req))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			got := tt.e.up.last(t)
			if tt.wantXFF != "" && strings.Join(got.Header.Values("X-Forwarded-For"), ",") != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got.Header.Values("X-Forwarded-For"), tt.wantXFF)
			}
			if got.Header.Get("X-Real-Ip") != tt.wantIP {
				t.Errorf("X-Real-Ip = %q, want %q", got.Header.Get("X-Real-Ip"), tt.wantIP)
			}
			for _, h := range []string{"True-Client-Ip", "X-Client-Ip", "Cf-Connecting-Ip", "Forwarded", "X-Original-Url", "X-Rewrite-Url"} {
				if v := got.Header.Get(h); v != "" {
					t.Errorf("%s = %q forwarded", h, v)
				}
			}
			if got.Header.Get("X-Forwarded-Host") != "example.com" {
				t.Errorf("X-Forwarded-Host = %q", got.Header.Get("X-Forwarded-Host"))
			}
			if tt.e == untrusted && got.Header.Get("X-Forwarded-Proto") != "http" {
				t.Errorf("X-Forwarded-Proto = %q from an untrusted client", got.Header.Get("X-Forwarded-Proto"))
			}
		})
	}
}

// TestUpstreamHostHeader: the upstream sees its own host unless
// preserve_host is set.
func TestUpstreamHostHeader(t *testing.T) {
	e := startEnv(t, `
listen: ${LISTEN}
upstreams:
  app: {url: "${UPSTREAM}"}
  keep: {url: "${UPSTREAM}", preserve_host: true}
routes:
  - match: {path_prefix: /a}
    upstream: app
  - match: {path_prefix: /k}
    upstream: keep
`)
	e.do(http.MethodGet, "/a", map[string]string{"Host": "api.example.com"}, "")
	if h := e.up.last(t).Host; h != strings.TrimPrefix(e.up.URL, "http://") {
		t.Errorf("upstream Host = %q", h)
	}
	e.do(http.MethodGet, "/k", map[string]string{"Host": "api.example.com"}, "")
	if h := e.up.last(t).Host; h != "api.example.com" {
		t.Errorf("preserved Host = %q", h)
	}
}
