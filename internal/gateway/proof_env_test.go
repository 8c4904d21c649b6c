package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// Helpers of the signature, dpop and apikey tests.

// testClock is a clock a test moves; the gateway reads it through
// Options.Now.
type testClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

func (c *testClock) Now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// withClock runs the env's gateway on c.
func withClock(c *testClock) func(*env) { return func(e *env) { e.gwOpts.Now = c.Now } }

// failingHot is a hot store whose replay guard is down.
type failingHot struct{ store.Hot }

func (failingHot) Claim(context.Context, string, time.Duration) (bool, error) {
	return false, fmt.Errorf("redis down: %w", store.ErrUnavailable)
}

func withFailingHot(t *testing.T) func(*env) {
	h := memory.NewHot(memory.HotOptions{})
	t.Cleanup(func() { h.Close() })
	return func(e *env) { e.gwOpts.Hot = failingHot{h} }
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRefused checks a problem answer's status and reason, and that the
// request never reached the upstream.
func wantRefused(t *testing.T, e *env, resp *http.Response, before int64, status int, reason string) {
	t.Helper()
	p := readProblem(t, resp)
	if resp.StatusCode != status || p.Reason != reason {
		t.Fatalf("status %d %s, want %d %s", resp.StatusCode, p.Reason, status, reason)
	}
	if n := e.up.hits.Load(); n != before {
		t.Fatalf("a refused request reached the upstream")
	}
}

func wantOK(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

// sigRequest is a request to sign and send.
type sigRequest struct {
	method, target string
	header         map[string]string
	body           string
}

// sign signs r as the gateway at e will see it (authority = its address)
// and returns the header fields to add.
func sign(t *testing.T, e *env, s *httpsig.Signer, r sigRequest) map[string]string {
	t.Helper()
	req := &httpsig.Request{Method: r.method, Target: r.target, Scheme: "http", Authority: e.addr}
	req.Fields = append(req.Fields, httpsig.Field{Name: "Host", Value: e.addr})
	for k, v := range r.header {
		req.Fields = append(req.Fields, httpsig.Field{Name: k, Value: v})
	}
	if r.body != "" {
		req.Body = []byte(r.body)
		req.Fields = append(req.Fields, httpsig.Field{Name: "Content-Length", Value: fmt.Sprint(len(r.body))})
	}
	signed, err := s.Sign(httpsig.Message{Request: req})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"Signature-Input": signed.Input, "Signature": signed.Signature}
	if signed.ContentDigest != "" {
		out["Content-Digest"] = signed.ContentDigest
	}
	return out
}

// send sends r with the extra fields over a real connection.
func send(t *testing.T, e *env, r sigRequest, extra map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{}
	for k, v := range r.header {
		h[k] = v
	}
	for k, v := range extra {
		h[k] = v
	}
	return e.do(r.method, r.target, h, r.body)
}

// nodeModules returns internal/httpsig/testdata/node/node_modules with
// npm's http-message-signatures installed (git-ignored), installing the
// latest release on first use, as internal/httpsig's interop test does.
// Without node and npm the test skips, loudly; under CI it fails.
func nodeModules(t *testing.T) string {
	t.Helper()
	return testenv.NPM(t, filepath.Join("..", "httpsig", "testdata", "node"), "http-message-signatures@latest")
}
