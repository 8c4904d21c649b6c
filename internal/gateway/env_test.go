package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

// produced records every reason code any test's gateway answered with,
// so that TestMain can fail when a declared reason is never produced.
var produced sync.Map

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv("DRAWBRIDGE_SKIP_REASON_COVERAGE") == "" && !testing.Short() && flagRunIsEmpty() {
		var missing []string
		for _, r := range gateway.Reasons() {
			if _, ok := produced.Load(r); !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: declared reason codes never produced by any test:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func flagRunIsEmpty() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") {
			return false
		}
	}
	return true
}

// seen is what the upstream received.
type seen struct {
	Method     string
	RequestURI string
	Path       string // escaped path
	Host       string
	Header     http.Header
	Body       string
	Proto      string
}

// upstream is a real HTTP server that records every request it serves.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	reqs []seen
	// handle, if set, answers instead of the default echo.
	handle func(w http.ResponseWriter, r *http.Request) bool
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, seen{r.Method, r.RequestURI, r.URL.EscapedPath(), r.Host, r.Header.Clone(), string(body), r.Proto})
		u.mu.Unlock()
		if u.handle != nil && u.handle(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "https://upstream-says.example")
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.EscapedPath(), "method": r.Method})
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("upstream saw no request")
	}
	return u.reqs[len(u.reqs)-1]
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a gateway serving a config on an ephemeral port, in front of a
// recording upstream.
type env struct {
	t        *testing.T
	up       *upstream
	gw       *gateway.Gateway
	srv      *gateway.Server
	base     string // http://host:port
	addr     string
	admin    string
	logs     *syncBuffer
	cfgPath  string
	cancel   context.CancelFunc
	done     chan error
	vars     map[string]string
	stopOnce sync.Once
	// gwOpts are the gateway's options (stores, clock); startEnv sets
	// the logging.
	gwOpts gateway.Options
}

// startEnv runs a gateway with yaml as its config. ${UPSTREAM} is the
// recording upstream; ${LISTEN} and ${ADMIN_LISTEN} are free ports.
func startEnv(t *testing.T, yaml string, opts ...func(*env)) *env {
	t.Helper()
	e := &env{t: t, up: newUpstream(t), logs: &syncBuffer{}}
	e.vars = map[string]string{"UPSTREAM": e.up.URL, "LISTEN": "127.0.0.1:0", "ADMIN_LISTEN": "127.0.0.1:0"}
	for _, o := range opts {
		o(e)
	}
	e.cfgPath = filepath.Join(t.TempDir(), "drawbridge.yaml")
	if err := os.WriteFile(e.cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(e.cfgPath, e.source())
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	sink := io.MultiWriter(e.logs, reasonRecorder{})
	logger := slog.New(slog.NewJSONHandler(sink, nil))
	o := e.gwOpts
	o.Logger, o.DecisionLog = logger, sink
	e.gw = gateway.New(o)
	if err := e.gw.Load(f); err != nil {
		t.Fatalf("load: %v", err)
	}
	e.srv, err = gateway.NewServer(e.gw, f, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Start(); err != nil {
		t.Fatal(err)
	}
	e.addr = e.srv.Addr().String()
	e.base = "http://" + e.addr
	if a := e.srv.AdminAddr(); a != nil {
		e.admin = "http://" + a.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- e.srv.Serve(ctx) }()
	waitReady(t, e.srv)
	t.Cleanup(e.stop)
	return e
}

func (e *env) source() config.Source {
	return config.Source{LookupEnv: func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }}
}

func (e *env) stop() {
	e.stopOnce.Do(func() {
		e.cancel()
		select {
		case err := <-e.done:
			if err != nil {
				e.t.Errorf("Serve: %v", err)
			}
		case <-time.After(40 * time.Second):
			e.t.Error("server did not stop")
		}
	})
}

func waitReady(t *testing.T, s *gateway.Server) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if s.Ready() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("server not ready")
}

// reasonRecorder notes the reason codes in decision log lines.
type reasonRecorder struct{}

func (reasonRecorder) Write(p []byte) (int, error) {
	var line struct {
		Msg    string `json:"msg"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(p, &line) == nil && line.Msg == "decision" && line.Reason != "" {
		produced.Store(line.Reason, true)
	}
	return len(p), nil
}

// do sends a request with a browser-like User-Agent unless the headers
// set one.
func (e *env) do(method, target string, header map[string]string, body string) *http.Response {
	e.t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+target, rb)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (test)")
	for k, v := range header {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// problem is a decoded problem+json body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

func readProblem(t *testing.T, resp *http.Response) problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d)", ct, resp.StatusCode)
	}
	var p problem
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	return p
}

// rawExchange sends exact bytes on a new connection and reads one
// response.
func rawExchange(t *testing.T, addr string, req []byte) (resp *http.Response, body string) {
	t.Helper()
	resp, body, _ = rawExchangeConn(t, addr, req, false)
	return resp, body
}

// rawExchangeConn is rawExchange that, with checkClosed, also reports
// whether the server closed the connection after the response.
func rawExchangeConn(t *testing.T, addr string, req []byte, checkClosed bool) (resp *http.Response, body string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no HTTP response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if !checkClosed {
		return resp, string(b), false
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = br.ReadByte()
	closed = err == io.EOF || (err != nil && !isTimeout(err))
	return resp, string(b), closed
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

const basicYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: api
    match:
      path_prefix: /api/
    upstream: app
    policies:
      - useragent:
          deny: ["curl/*"]
`

// raw sends exact bytes on a new connection and returns everything that
// came back until the server closed the connection or timeout passed.
func raw(t *testing.T, addr string, req []byte, timeout time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, _ = io.Copy(&out, c)
	return out.String()
}

// rawResponse parses the first response of raw's output.
func rawResponse(t *testing.T, s string) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(s)), nil)
	if err != nil {
		t.Fatalf("no HTTP response in %q: %v", s, err)
	}
	return resp
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(reasonRecorder{}, nil))
}
