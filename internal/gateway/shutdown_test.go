package gateway_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowUpstream answers each request after delay, or once release is
// closed if delay is zero. arrived receives a value per request when it
// reaches the upstream.
type slowUpstream struct {
	*httptest.Server
	arrived chan struct{}
	release chan struct{}
}

func newSlowUpstream(t *testing.T, delay time.Duration) *slowUpstream {
	u := &slowUpstream{arrived: make(chan struct{}, 64), release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.arrived <- struct{}{}
		wait := time.After(delay)
		if delay == 0 {
			wait = nil
		}
		select {
		case <-wait:
		case <-u.release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "slow done")
	}))
	t.Cleanup(func() {
		select {
		case <-u.release:
		default:
			close(u.release)
		}
		u.Close()
	})
	return u
}

// awaitArrivals waits until n requests have reached the upstream.
func (u *slowUpstream) awaitArrivals(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-u.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d requests reached the upstream", i, n)
		}
	}
}

const shutdownYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
limits:
  shutdown_timeout: ${SHUTDOWN_TIMEOUT}
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
`

// stopAsync begins a graceful shutdown and returns a channel closed once
// Serve has returned (env.stop fails the test if Serve returns an error).
func stopAsync(e *env) <-chan struct{} {
	stopped := make(chan struct{})
	go func() { e.stop(); close(stopped) }()
	return stopped
}

type inflightResult struct {
	status int
	body   string
	err    error
}

// inflight sends n GETs with client, each on a connection of its own
// for HTTP/1.1, and returns their results on a channel.
func inflight(client *http.Client, base string, n int) <-chan inflightResult {
	out := make(chan inflightResult, n)
	for range n {
		go func() {
			req, _ := http.NewRequest("GET", base+"/api/slow", nil)
			req.Close = true
			resp, err := client.Do(req)
			if err != nil {
				out <- inflightResult{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out <- inflightResult{status: resp.StatusCode, body: string(b), err: err}
		}()
	}
	return out
}

// TestGracefulShutdown: in-flight requests finish, new connections are
// refused at once, /readyz turns 503, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Run("HTTP/1.1", func(t *testing.T) {
		up := newSlowUpstream(t, 500*time.Millisecond)
		e := startEnv(t, shutdownYAML, func(e *env) {
			e.vars["UPSTREAM"] = up.URL
			e.vars["SHUTDOWN_TIMEOUT"] = "5s"
		})
		checkGraceful(t, e, up, &http.Client{Timeout: 10 * time.Second})
	})
	t.Run("HTTP/2", func(t *testing.T) {
		up := newSlowUpstream(t, 500*time.Millisecond)
		e, roots := startTLSEnv(t, nil, func(e *env) {
			e.vars["UPSTREAM"] = up.URL
			e.vars["SHUTDOWN_TIMEOUT"] = "5s"
		})
		checkGraceful(t, e, up, h2Client(t, roots))
	})
}

func checkGraceful(t *testing.T, e *env, up *slowUpstream, client *http.Client) {
	t.Helper()
	const n = 6
	results := inflight(client, e.base, n)
	up.awaitArrivals(t, n)

	shutdownAt := time.Now()
	stopped := stopAsync(e)

	// New connections are refused once shutdown has begun.
	for {
		c, err := net.DialTimeout("tcp", e.addr, time.Second)
		if err != nil {
			t.Logf("dial refused %v after shutdown began: %v", time.Since(shutdownAt), err)
			break
		}
		c.Close()
		if time.Since(shutdownAt) > time.Second {
			t.Fatal("new connections still accepted 1s after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The admin listener says not ready while requests drain.
	resp, err := http.Get(e.admin + "/readyz")
	switch {
	case err != nil:
		t.Logf("admin listener gone during shutdown: %v", err)
	case resp.StatusCode != http.StatusServiceUnavailable:
		t.Errorf("/readyz during shutdown = %d, want 503", resp.StatusCode)
		resp.Body.Close()
	default:
		resp.Body.Close()
	}

	for range n {
		r := <-results
		if r.err != nil || r.status != 200 || r.body != "slow done" {
			t.Errorf("in-flight request: status %d body %q err %v, want 200", r.status, r.body, r.err)
		}
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return 5s after the in-flight requests finished")
	}
}

// TestShutdownTimeout: a request that outlives limits.shutdown_timeout is
// cut off when the timeout passes, and Serve returns.
func TestShutdownTimeout(t *testing.T) {
	t.Run("HTTP/1.1", func(t *testing.T) {
		up := newSlowUpstream(t, 0) // answers only when released
		e := startEnv(t, shutdownYAML, func(e *env) {
			e.vars["UPSTREAM"] = up.URL
			e.vars["SHUTDOWN_TIMEOUT"] = "300ms"
		})
		results := inflight(&http.Client{Timeout: 10 * time.Second}, e.base, 1)
		up.awaitArrivals(t, 1)
		checkCutOff(t, e, results)
	})

	t.Run("HTTP/2", func(t *testing.T) {
		up := newSlowUpstream(t, 0)
		e, roots := startTLSEnv(t, nil, func(e *env) {
			e.vars["UPSTREAM"] = up.URL
			e.vars["SHUTDOWN_TIMEOUT"] = "300ms"
		})
		results := inflight(h2Client(t, roots), e.base, 1)
		up.awaitArrivals(t, 1)
		checkCutOff(t, e, results)
	})
}

// checkCutOff shuts e down while the one request of results is held by
// the upstream, and checks that Serve returns and the request ends
// without an answer soon after shutdown_timeout (300ms).
func checkCutOff(t *testing.T, e *env, results <-chan inflightResult) {
	t.Helper()
	start := time.Now()
	stopped := stopAsync(e)
	select {
	case <-stopped:
		t.Logf("Serve returned %v after shutdown began", time.Since(start))
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return 3s after shutdown began (shutdown_timeout 300ms)")
	}
	select {
	case r := <-results:
		if r.err == nil && r.status == 200 {
			t.Errorf("request held past shutdown_timeout was answered 200 %q; want it cut off", r.body)
		}
		var ne net.Error
		if errors.As(r.err, &ne) && ne.Timeout() {
			t.Errorf("request ended by the client's own timeout, not by the gateway: %v", r.err)
		}
		t.Logf("request ended %v after shutdown began: status %d err %v", time.Since(start), r.status, r.err)
	case <-time.After(3 * time.Second):
		t.Fatal("request still open 3s after shutdown began (shutdown_timeout 300ms)")
	}
}

// With shutdown_delay the gateway says it is not ready but keeps serving,
// telling keep-alive clients to go, and closes its listener only after
// the delay.
func TestShutdownDelay(t *testing.T) {
	up := newSlowUpstream(t, time.Millisecond)
	yaml := strings.Replace(shutdownYAML, "  shutdown_timeout:", "  shutdown_delay: 1500ms\n  shutdown_timeout:", 1)
	e := startEnv(t, yaml, func(e *env) {
		e.vars["UPSTREAM"] = up.URL
		e.vars["SHUTDOWN_TIMEOUT"] = "5s"
	})
	client := &http.Client{Timeout: 5 * time.Second}
	shutdownAt := time.Now()
	stopped := stopAsync(e)

	// Not ready at once...
	deadline := time.Now().Add(time.Second)
	for {
		resp, err := client.Get(e.admin + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 200 a second after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// ...while requests on new connections are still served, each told to
	// close its connection.
	resp, err := client.Get(e.base + "/api/x")
	if err != nil {
		t.Fatalf("request during shutdown_delay: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("during shutdown_delay: status %d, Connection: close %v; want 200 and close", resp.StatusCode, resp.Close)
	}
	if since := time.Since(shutdownAt); since >= 1500*time.Millisecond {
		t.Fatalf("test too slow to observe the delay (%v)", since)
	}
	// After the delay the listener closes.
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if since := time.Since(shutdownAt); since < 1500*time.Millisecond {
		t.Errorf("stopped %v after shutdown began, before shutdown_delay", since)
	}
	if c, err := net.DialTimeout("tcp", e.addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still open after shutdown")
	}
}
