package gateway_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorsDir is where the shared test vectors live: $DRAWBRIDGE_VECTORS,
// or ../shared/vectors beside the checkout. Under CI a missing directory
// fails the test; elsewhere the test skips, loudly.
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test vectors missing at %s (set DRAWBRIDGE_VECTORS)", dir)
		}
		t.Skipf("SKIP: test vectors missing at %s (set DRAWBRIDGE_VECTORS); attack cases NOT run", dir)
	}
	return dir
}

type attackCase struct {
	ID         string          `json:"id"`
	Case       string          `json:"case"`
	RawRequest json.RawMessage `json:"raw_request"`
	Expected   string          `json:"expected"`
}

// latin1 encodes s, whose runes U+0000..U+00FF stand for single octets
// (the catalogue's encoding note), as bytes; other runes as UTF-8.
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		if r <= 0xff {
			b = append(b, byte(r))
		} else {
			b = append(b, string(r)...)
		}
	}
	return b
}

// want is the gateway's answer to one raw request.
type want struct {
	status int
	reason string // "" for a forwarded request
	closed bool   // the connection must be closed after the answer
}

func refused(status int, reason string) want {
	return want{status: status, reason: reason, closed: true}
}

const attackYAML = `
listen: ${LISTEN}
upstreams: {app: {url: "${UPSTREAM}"}}
routes:
  - name: admin
    match: {hosts: [example.com], path_prefix: /admin}
    upstream: app
    policies:
      - ip: {allow: [10.0.0.0/8]}
  - name: site
    match: {hosts: [example.com]}
    upstream: app
`

// TestHTTPAttackCatalogue sends every raw request of
// standards/attacks/http_attacks.json over a raw socket to a gateway in
// front of a recording upstream, and checks the answer and that a refused
// request never reaches the upstream.
func TestHTTPAttackCatalogue(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorsDir(t), "standards", "attacks", "http_attacks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat struct{ Cases []attackCase }
	if err := json.Unmarshal(data, &cat); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, attackYAML)

	// Framing refusals close the connection; path refusals need not.
	bad := func(reason string) want {
		return want{status: 400, reason: reason, closed: strings.HasPrefix(reason, "framing.")}
	}
	admin := want{status: 403, reason: "ip.denied"}
	// Expected answers by case id (and index, for cases listing several
	// requests). Cases that are descriptions rather than bytes are
	// generated below or covered by their own tests (noted).
	expect := map[string][]want{
		"HTTP-01":    {bad("framing.cl_te")},
		"HTTP-02":    {bad("framing.cl_te")},
		"HTTP-03.01": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.02": {bad("framing.bad_header")},
		"HTTP-03.03": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.04": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.05": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.06": {bad("framing.cl_te")},
		"HTTP-03.07": {bad("framing.bad_header")},
		"HTTP-03.08": {bad("framing.bare_lf")},
		"HTTP-03.09": {bad("framing.bad_header")},
		"HTTP-03.10": {bad("framing.cl_te")},
		"HTTP-03.11": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.12": {bad("framing.bad_header")},
		"HTTP-03.13": {bad("framing.bad_header")},
		"HTTP-03.14": {bad("framing.bad_header")},
		"HTTP-03.15": {bad("framing.bad_transfer_encoding")},
		"HTTP-03.16": {bad("framing.bad_transfer_encoding")},
		"HTTP-04.01": {bad("framing.bad_content_length")},
		"HTTP-04.02": {bad("framing.bad_content_length")},
		"HTTP-04.03": {bad("framing.bad_content_length")},
		"HTTP-04.04": {bad("framing.bad_content_length")},
		"HTTP-04.05": {bad("framing.bad_content_length")},
		"HTTP-04.06": {bad("framing.bad_content_length")},
		"HTTP-04.07": {bad("framing.bad_content_length")},
		"HTTP-04.08": {{status: 200}}, // trailing OWS is valid
		"HTTP-04.09": {bad("framing.bad_header")},
		"HTTP-04.10": {bad("framing.bad_content_length")},
		"HTTP-05":    {bad("framing.bare_lf")},
		"HTTP-09": {
			admin,                           // /%61dmin -> /admin
			admin,                           // /ADMIN: routes match case-insensitively
			admin,                           // //admin
			admin,                           // /./admin
			admin,                           // /public/../admin
			admin,                           // /public/%2e%2e/admin
			admin,                           // /public/%2E%2E/admin
			bad("path.encoded_separator"),   // /public/..%2fadmin
			bad("path.encoded_separator"),   // /public%2f..%2fadmin
			bad("path.semicolon"),           // /admin;jsessionid=x
			bad("path.semicolon"),           // /admin;/
			bad("path.semicolon"),           // /public/..;/admin
			bad("path.control_character"),   // /admin%00
			bad("path.control_character"),   // /admin%20
			bad("path.control_character"),   // /admin%09
			admin,                           // /admin/
			bad("path.encoded_separator"),   // /admin%2f
			admin,                           // /%2e/admin
			bad("path.above_root"),          // /.%2e/admin
			bad("path.encoded_separator"),   // /public\..\admin (raw backslash)
			bad("path.encoded_separator"),   // /public/%5c../admin
			bad("path.bad_utf8"),            // /public/%c0%ae%c0%ae/admin
			bad("path.bad_utf8"),            // /public%c0%afadmin
			bad("path.bad_encoding"),        // /public/%252e%252e/admin
			bad("framing.bad_request_line"), // /public/%%32%65%%32%65/admin
			bad("framing.bad_request_line"), // full-width dots (raw UTF-8)
			bad("framing.bad_request_line"), // full-width a (raw UTF-8)
			bad("framing.bad_request_line"), // /admin#
			admin,                           // /admin?x=1
		},
		"HTTP-10": {
			bad("framing.bad_host"),                  // missing Host
			bad("framing.bad_host"),                  // two Host fields
			bad("framing.bad_host"),                  // userinfo
			bad("framing.bad_host"),                  // bad port
			{status: 200},                            // trailing OWS; X-Forwarded-Host replaced (checked below)
			{status: 404, reason: "route.not_found"}, // absolute-form: evil.example wins and no route serves it
		},
		"HTTP-11": {
			{status: 200}, {status: 200}, {status: 200},
			bad("framing.bad_connection"),
		},
		"HTTP-12": {bad("framing.h2c_upgrade")},
		"HTTP-13": {{status: 200}, {status: 200}, {status: 200}},
		"HTTP-17": {bad("framing.bare_lf")},
	}
	generated := map[string][]string{
		"HTTP-07": {"GET / HTTP/1.1\r\nHost: example.com\r\n" + strings.Repeat("X-H: a\r\n", 10000) + "\r\n"},
		"HTTP-08": {
			"GET /" + strings.Repeat("A", 64<<10) + " HTTP/1.1\r\nHost: example.com\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + strings.Repeat("B", 64<<10) + "\r\n\r\n",
		},
	}
	expect["HTTP-07"] = []want{refused(431, "framing.headers_too_large")}
	expect["HTTP-08"] = []want{refused(414, "framing.uri_too_long"), refused(431, "framing.headers_too_large")}
	// Covered elsewhere: HTTP-06 and HTTP-16 (HTTP/2) in h2_test.go,
	// HTTP-14 and HTTP-15 (slow clients) in limits_test.go.
	elsewhere := map[string]bool{"HTTP-06": true, "HTTP-14": true, "HTTP-15": true, "HTTP-16": true}

	ran := 0
	for _, c := range cat.Cases {
		var reqs []string
		if g, ok := generated[c.ID]; ok {
			reqs = g
		} else if elsewhere[c.ID] {
			continue
		} else if err := json.Unmarshal(c.RawRequest, &reqs); err != nil {
			var one string
			if err := json.Unmarshal(c.RawRequest, &one); err != nil {
				t.Fatalf("%s: raw_request: %v", c.ID, err)
			}
			reqs = []string{one}
		}
		wants, ok := expect[c.ID]
		if !ok {
			t.Errorf("%s (%s): no expectation in this test", c.ID, c.Case)
			continue
		}
		if len(wants) != len(reqs) {
			t.Fatalf("%s: %d requests, %d expectations", c.ID, len(reqs), len(wants))
		}
		for i, r := range reqs {
			w := wants[i]
			t.Run(fmt.Sprintf("%s/%d", c.ID, i), func(t *testing.T) {
				ran++
				before := e.up.hits.Load()
				resp, body, closed := rawExchangeConn(t, e.addr, latin1(r), w.closed)
				if resp.StatusCode != w.status {
					t.Fatalf("%q: status = %d, want %d (%s)\n%s", trunc(r), resp.StatusCode, w.status, c.Expected, body)
				}
				if w.reason != "" {
					var p problem
					if err := json.Unmarshal([]byte(body), &p); err != nil || p.Reason != w.reason {
						t.Fatalf("%q: reason = %q, want %q (%s)", trunc(r), p.Reason, w.reason, body)
					}
					if hits := e.up.hits.Load() - before; hits != 0 {
						t.Fatalf("%q: refused request reached the upstream %d times", trunc(r), hits)
					}
				}
				if w.closed && !closed {
					t.Errorf("%q: connection left open after a framing refusal", trunc(r))
				}
				if c.ID == "HTTP-10" && i == 4 {
					if xfh := e.up.last(t).Header.Get("X-Forwarded-Host"); xfh != "example.com" {
						t.Errorf("X-Forwarded-Host = %q, want example.com", xfh)
					}
				}
				if c.ID == "HTTP-04.08" {
					if got := e.up.last(t).Body; got != "abcdef" {
						t.Errorf("upstream body = %q", got)
					}
				}
			})
		}
	}
	if ran < 70 {
		t.Errorf("ran %d raw requests; the catalogue should give more than 70", ran)
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
