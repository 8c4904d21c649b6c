package cli_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

const serveConfig = `listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
state:
  durable: sqlite:${STATE_DIR}/state.db
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
      - headers:
          security_headers: true
`

// freeAddr returns a loopback address that was free a moment ago. serve
// cannot report the port it bound, so the test picks one; another process
// may take it in between, which startServe retries.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type served struct {
	listen, admin string
	stderr        *syncBuffer
	cancel        context.CancelFunc
	done          chan int
}

// startServe runs 'drawbridge serve' in a goroutine until /readyz on the
// admin listener answers 200.
func startServe(t *testing.T, upstream string) *served {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(serveConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UPSTREAM", upstream)
	t.Setenv("STATE_DIR", t.TempDir()) // serve opens a real SQLite file
	for attempt := 1; ; attempt++ {
		s := &served{listen: freeAddr(t), admin: freeAddr(t), stderr: &syncBuffer{}, done: make(chan int, 1)}
		t.Setenv("LISTEN", s.listen)
		t.Setenv("ADMIN_LISTEN", s.admin)
		ctx, cancel := context.WithCancel(t.Context())
		s.cancel = cancel
		go func() { s.done <- cli.Run(ctx, []string{"serve", "--config", path}, io.Discard, s.stderr) }()
		err := waitReady(s)
		if err == nil {
			return s
		}
		cancel()
		if strings.Contains(s.stderr.String(), "address already in use") && attempt < 3 {
			continue // the port was taken between freeAddr and serve
		}
		t.Fatalf("serve did not become ready: %v\nstderr:\n%s", err, s.stderr)
	}
}

func waitReady(s *served) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-s.done:
			return fmt.Errorf("serve exited with %d", code)
		default:
		}
		resp, err := client.Get("http://" + s.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("/readyz not 200 within 10s")
}

// stop cancels serve's context, as SIGTERM would, and returns its exit code.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop within 10s of cancel\nstderr:\n%s", s.stderr)
		return -1
	}
}

func TestServe(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream saw %s %s from %s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-For"))
	}))
	defer up.Close()

	s := startServe(t, up.URL)

	req, err := http.NewRequest(http.MethodGet, "http://"+s.listen+"/api/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "ShopApp/1.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != "upstream saw GET /api/orders from 127.0.0.1" {
		t.Errorf("proxied request: %d %q, want 200 from the upstream", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff (headers policy)", got)
	}

	if code := s.stop(t); code != cli.ExitOK {
		t.Errorf("exit code after cancel = %d, want %d (graceful shutdown)\nstderr:\n%s", code, cli.ExitOK, s.stderr)
	}
	// The decision log is flushed before serve returns.
	log := s.stderr.String()
	for _, want := range []string{`"msg":"decision"`, `"decision":"allow"`, `"route":"api"`, `"msg":"stopped"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log has no %s:\n%s", want, log)
		}
	}
	if c, err := net.DialTimeout("tcp", s.listen, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after serve returned", s.listen)
	}
}

func TestDemoPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	for _, args := range [][]string{
		{"demo", "--quiet", "--listen", busy, "--admin-listen", "127.0.0.1:0"},
		{"demo", "--quiet", "--listen", "127.0.0.1:0", "--admin-listen", busy},
	} {
		code, stdout, stderr := run(t, args...)
		if code != cli.ExitRefused || stdout != "" || !strings.Contains(stderr, busy) ||
			!strings.HasSuffix(stderr, "(is another demo running? choose other ports with --listen and --admin-listen)\n") {
			t.Errorf("drawbridge %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 1, no tour, and a hint to choose other ports",
				strings.Join(args, " "), code, stdout, stderr)
		}
	}
}
