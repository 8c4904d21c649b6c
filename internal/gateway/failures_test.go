package gateway_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

// TestFailClosed: whatever goes wrong inside the gateway or behind it, the
// client gets a problem+json refusal, never a forwarded request it should
// not have, and the process keeps serving.
func TestFailClosed(t *testing.T) {
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	e := startEnv(t, `
listen: ${LISTEN}
upstreams:
  app: {url: "${UPSTREAM}"}
  gone: {url: "http://`+closedPort+`"}
  slow: {url: "${UPSTREAM}", response_header_timeout: 200ms}
routes:
  - name: broken
    match: {path_prefix: /broken}
    upstream: app
  - name: panics
    match: {path_prefix: /panics}
    upstream: app
  - name: gone
    match: {path_prefix: /gone}
    upstream: gone
  - name: slow
    match: {path_prefix: /slow}
    upstream: slow
`)
	gateway.AppendPolicy(e.gw, "broken", "test", gateway.PolicyFunc(func(*gateway.Scope) error { return errors.New("database on fire") }))
	gateway.AppendPolicy(e.gw, "panics", "test", gateway.PolicyFunc(func(*gateway.Scope) error { panic("policy bug") }))
	e.up.handle = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/slow") {
			time.Sleep(time.Second)
		}
		return false
	}
	tests := []struct {
		target string
		status int
		reason string
	}{
		{"/broken", 500, "gateway.internal"},
		{"/panics", 500, "gateway.internal"},
		{"/gone", 502, "upstream.unavailable"},
		{"/slow", 504, "upstream.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			before := e.up.hits.Load()
			resp := e.do("GET", tt.target, nil, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			p := readProblem(t, resp)
			if p.Reason != tt.reason {
				t.Fatalf("reason = %q, want %q", p.Reason, tt.reason)
			}
			if strings.Contains(p.Detail, "fire") || strings.Contains(p.Detail, "bug") || strings.Contains(p.Detail, "127.0.0.1") {
				t.Fatalf("internal detail leaked: %q", p.Detail)
			}
			if tt.target != "/slow" && e.up.hits.Load() != before {
				t.Fatal("upstream reached")
			}
		})
	}
	// The cause is logged for the operator.
	if logs := e.logs.String(); !strings.Contains(logs, "database on fire") || !strings.Contains(logs, "policy bug") {
		t.Errorf("causes not logged: %s", logs)
	}
	// Still serving.
	if resp := e.do("GET", "/gone", nil, ""); resp.StatusCode != 502 {
		t.Fatalf("after failures: %d", resp.StatusCode)
	}
}

// TestNotReady: a gateway without a config refuses everything.
func TestNotReady(t *testing.T) {
	g := gateway.New(gateway.Options{Logger: testLogger()})
	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 503 || readProblem(t, resp).Reason != "gateway.not_ready" {
		t.Fatalf("status = %d", resp.StatusCode)
	}
}

// TestMoreFramingRefusals: framing reasons the attack catalogue does not
// reach.
func TestMoreFramingRefusals(t *testing.T) {
	e := startEnv(t, basicYAML)
	tests := []struct {
		req    string
		status int
		reason string
	}{
		{"GET /api/x HTTP/1.2\r\nHost: example.com\r\n\r\n", 505, "framing.bad_version"},
		{"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "framing.method_not_allowed"},
		{"POST /api/x HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, "framing.bad_chunk"},
		{"GET /api/x HTTP/1.1\r\nHost: example.com\r\nDrawbridge-Refusal: forged framing.cl_te\r\n\r\n", 400, "framing.bad_header"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			framing := strings.HasPrefix(tt.reason, "framing.")
			resp, body, closed := rawExchangeConn(t, e.addr, []byte(tt.req), framing)
			if resp.StatusCode != tt.status || !strings.Contains(body, `"reason":"`+tt.reason+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.reason)
			}
			if framing && !closed {
				t.Error("connection left open")
			}
			if e.up.hits.Load() != 0 {
				t.Fatal("upstream reached")
			}
		})
	}
}

// TestPathRefusalsBehindTheGuard: on HTTP/1 the framing guard refuses
// raw non-ASCII bytes, fragments and non-absolute targets before net/http
// parses them; the gateway's own path check is the second line, for
// HTTP/2 and requests built in process.
func TestPathRefusalsBehindTheGuard(t *testing.T) {
	e := startEnv(t, basicYAML)
	for target, reason := range map[string]string{
		"/api/caf\xc3\xa9": "path.non_ascii",
		"/api/x#frag":      "path.fragment",
		"api/x":            "path.not_absolute",
	} {
		req := httptest.NewRequest("GET", "http://example.com/api/x", nil)
		req.RequestURI = target
		rec := httptest.NewRecorder()
		e.gw.ServeHTTP(rec, req)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"reason":"`+reason+`"`) {
			t.Errorf("%q: %d %s, want 400 %s", target, rec.Code, rec.Body, reason)
		}
	}
}

// TestIncompleteBody: a client that stops in the middle of its body is
// answered as the client's fault, not the upstream's.
func TestIncompleteBody(t *testing.T) {
	e := startEnv(t, basicYAML)
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("POST /api/upload HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"))
	time.Sleep(50 * time.Millisecond)
	_ = c.(*net.TCPConn).CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || readProblem(t, resp).Reason != "request.body_incomplete" {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if strings.Contains(e.logs.String(), "upstream.") {
		t.Errorf("blamed on the upstream: %s", e.logs.String())
	}
}
